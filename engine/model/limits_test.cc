// Hostile or oversized models are rejected cheaply, with the limit named.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/model/model.h"
#include "engine/model/names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using testing::HasSubstr;

std::string ErrorOf(const std::string& src, const ModelLimits& limits = {}) {
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(src, limits);
  if (m.ok()) return "OK";
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(m.status().message());
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(LimitsTest, SourceTooLarge) {
  const std::string src = "state x\nx' = 1\n" + std::string(300 * 1024, '#');
  EXPECT_EQ(ErrorOf(src), absl::StrCat("line 1, column 1: the source is ", src.size(),
                                       " bytes, over the limit max_source_bytes = 262144"));
}

TEST(LimitsTest, OneMegabyteOfParenthesesDoesNotBlowTheStack) {
  ModelLimits limits;
  limits.max_source_bytes = 4 << 20;
  const int n = 512 * 1024;
  const std::string src = "state x\nx' = " + std::string(n, '(') + "x" + std::string(n, ')') + "\n";
  EXPECT_EQ(ErrorOf(src, limits),
            "line 2, column 134: expression nesting exceeds the limit max_depth = 128");
}

TEST(LimitsTest, DeepNestingOfEveryKind) {
  const std::string deep = "line 2, column";
  // Calls, unary minus, '^' chains and '!' all count.
  EXPECT_THAT(ErrorOf("state x\nx' = " + Repeat("sin(", 200) + "x" + Repeat(")", 200)),
              HasSubstr("expression nesting exceeds the limit max_depth = 128"));
  EXPECT_THAT(ErrorOf("state x\nx' = " + Repeat("-", 100000) + "x"),
              HasSubstr("expression nesting exceeds the limit max_depth = 128"));
  EXPECT_THAT(ErrorOf("state x\nx' = x" + Repeat("^x", 100000)),
              HasSubstr("expression nesting exceeds the limit max_depth = 128"));
  EXPECT_THAT(ErrorOf("state x\nx' = " + Repeat("!", 100000) + "x"),
              HasSubstr("expression nesting exceeds the limit max_depth = 128"));
  // Exactly at the limit is fine.
  EXPECT_EQ(ErrorOf("state x\nx' = " + std::string(128, '(') + "x" + std::string(128, ')')), "OK");
  EXPECT_EQ(ErrorOf("state x\nx' = " + std::string(129, '(') + "x" + std::string(129, ')')),
            "line 2, column 134: expression nesting exceeds the limit max_depth = 128");
  // Long flat expressions are not deep.
  EXPECT_EQ(ErrorOf("state x\nx' = x" + Repeat(" + x*x", 5000)), "OK");
}

TEST(LimitsTest, TooManyStates) {
  std::string src = "state s0";
  for (int i = 1; i <= 256; ++i) absl::StrAppend(&src, ", s", i);
  src += "\n";
  EXPECT_EQ(ErrorOf(src), "line 1, column 1433: too many states (limit max_states = 256)");
}

TEST(LimitsTest, TooManyParams) {
  ModelLimits limits;
  limits.max_params = 3;
  EXPECT_EQ(ErrorOf("state x\nparam a, b\nparam c, d\nx' = 1\n", limits),
            "line 3, column 10: too many params (limit max_params = 3)");
}

TEST(LimitsTest, TooManyOutputs) {
  ModelLimits limits;
  limits.max_outputs = 2;
  EXPECT_EQ(ErrorOf("state x\nx' = 1\noutput a = x\noutput b = x\noutput c = x\n", limits),
            "line 5, column 8: too many outputs (limit max_outputs = 2)");
}

TEST(LimitsTest, TooManyNodesWhileParsing) {
  ModelLimits limits;
  limits.max_nodes = 50;
  std::string src = "state x\n";
  for (int i = 0; i < 30; ++i) absl::StrAppend(&src, "let a", i, " = x + ", i, "\n");
  src += "x' = 1\n";
  EXPECT_EQ(ErrorOf(src, limits),
            "line 27, column 1: the model needs more IR nodes than the limit max_nodes = 50");
}

TEST(LimitsTest, TooManyNodesWithDerivatives) {
  ModelLimits limits;
  limits.max_nodes = 20;
  // The right-hand side fits; its Jacobian does not.
  const std::string src =
      "state x, y, z\nx' = sin(x*y*z)\ny' = exp(x*y) + tan(y*z)\nz' = log(x + y + z) * z\n";
  EXPECT_EQ(ErrorOf(src), "OK");
  EXPECT_THAT(ErrorOf(src, limits),
              HasSubstr("the model and its derivatives need more IR nodes than the limit "
                        "max_nodes = 20"));
}

TEST(LimitsTest, TooManyRegisters) {
  ModelLimits limits;
  limits.max_source_bytes = 4 << 20;
  limits.max_nodes = 1 << 20;
  std::string src = "state x\nx' = x";
  for (int i = 1; i <= 70000; ++i) absl::StrAppend(&src, "+", i);
  EXPECT_EQ(ErrorOf(src, limits),
            "line 1, column 1: the model is too large: it needs more than 65535 registers");
}

TEST(LimitsTest, LongNameIsRejectedByTheLexerWithItsPosition) {
  const std::string name(130000, 'k');
  EXPECT_EQ(ErrorOf("state x\nx' = -" + name + "*x\n"),
            absl::StrCat("line 2, column 7: name '", std::string(32, 'k'),
                         "...' is 130000 characters long, over the limit "
                         "max_identifier_length = 128"));
  EXPECT_THAT(ErrorOf("state x\nx' = " + std::string(200, '1') + "\n"),
              HasSubstr("line 2, column 6: number '11111111111111111111111111111111...' is 200 "
                        "characters long, over the limit max_identifier_length = 128"));
  EXPECT_THAT(ErrorOf("state x\nx' = 1e" + std::string(200, 'q') + "\n"),
              HasSubstr("malformed number"));
  EXPECT_LT(ErrorOf("state x\nx' = 1e" + std::string(200, 'q') + "\n").size(), 300u);
  // At the limit is fine.
  EXPECT_EQ(ErrorOf("state " + std::string(128, 'a') + "\n" + std::string(128, 'a') + "' = 1\n"),
            "OK");
}

TEST(LimitsTest, DidYouMeanIsCheapForLongNames) {
  // Many long names, one misspelled reference: the banded distance keeps this fast even
  // with the cap raised far above the default.
  ModelLimits limits;
  limits.max_identifier_length = 1 << 20;
  limits.max_source_bytes = 4 << 20;
  const std::string stem(60000, 'p');
  std::string src = "state x\nparam " + stem + "a = 1, " + stem + "b = 2\n";
  src += "x' = " + stem + "c\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(ErrorOf(src, limits), HasSubstr("did you mean"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("suggestion over two 60,000-character names: %.3f s\n", seconds);
  EXPECT_LT(seconds, 5.0);
}

TEST(LimitsTest, CompileTimeLimit) {
  // 100 coupled states: the Jacobian takes a while; 1 ms is passed after a few columns.
  std::string src = "state ";
  for (int i = 0; i < 100; ++i) absl::StrAppend(&src, i ? ", " : "", "x", i);
  src += "\n";
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&src, "x", i, "' = -x", i);
    for (int k = 1; k < 40; ++k)
      absl::StrAppend(&src, " + sin(x", (i * 7 + k) % 100, "*x", (i + k * 13) % 100, ")");
    src += "\n";
  }
  ModelLimits limits;
  limits.max_compile_seconds = 0.001;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(src, limits);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(
      std::string(m.status().message()),
      HasSubstr("compiling the model took more than the limit max_compile_seconds = 0.001"));
  std::printf("a 1 ms compile limit stopped the compile after %.3f s\n", seconds);
  EXPECT_LT(seconds, 10);
  limits.max_compile_seconds = 0;  // no limit: it compiles
  EXPECT_TRUE(Model::Parse(src, limits).ok());
}

TEST(LimitsTest, BoundedEditDistanceAgreesWithTheFullOne) {
  uint64_t state = 12345;
  auto next = [&](int n) {  // a small LCG: deterministic and enough for short words
    state = state * 6364136223846793005u + 1442695040888963407u;
    return static_cast<int>((state >> 33) % static_cast<uint64_t>(n));
  };
  for (int trial = 0; trial < 2000; ++trial) {
    auto word = [&] {
      std::string w(static_cast<size_t>(next(9)), 'a');
      for (char& c : w) c = static_cast<char>('a' + next(3));
      return w;
    };
    const std::string a = word(), b = word();
    for (int limit = 0; limit <= 3; ++limit) {
      const int full = model_internal::EditDistance(a, b);
      ASSERT_EQ(model_internal::BoundedEditDistance(a, b, limit), std::min(full, limit + 1))
          << a << " / " << b << " limit " << limit;
    }
  }
}

}  // namespace
}  // namespace ensolve
