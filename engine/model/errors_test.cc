// Every rejected model names the line, the column and what was wrong; these tests pin the
// exact messages.
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

struct BadModel {
  const char* name;
  const char* source;
  const char* message;
};

const BadModel kBadModels[] = {
    {"UnexpectedCharacter", "state x = 1\nx' = x $ 2\n",
     "line 2, column 8: unexpected character '$'"},
    {"NonAsciiByte", "state x\nx' = \xc3\xa9\n",
     "line 2, column 6: unexpected byte 0xc3 (only ASCII is allowed outside comments)"},
    {"SingleAmpersand", "state x\nx' = x & 1\n",
     "line 2, column 8: unexpected character '&': expected '&&'"},
    {"SinglePipe", "state x\nx' = x | 1\n",
     "line 2, column 8: unexpected character '|': expected '||'"},
    {"MissingCloseParen", "state x\nx' = (x + 1\n",
     "line 3, column 1: unexpected end of input: expected ')' to close the '(' at line 2, column "
     "6"},
    {"MissingCloseParenBeforeNextStatement", "state x\nx' = 2*(x + 1\nstate y\n",
     "line 3, column 1: unexpected name 'state': expected ')' to close the '(' at line 2, column "
     "8"},
    {"UnclosedCall", "state x\nx' = sin(x\n",
     "line 3, column 1: unexpected end of input: expected ',' or ')' in the call to 'sin'"},
    {"StrayCloseParen", "state x\nx' = )\n",
     "line 2, column 6: unexpected ')': expected an expression"},
    {"DanglingOperator", "state x\nx' = x *\n",
     "line 3, column 1: unexpected end of input: expected an expression"},
    {"TwoOperands", "state x\nx' = x x\n",
     "line 2, column 8: unexpected name 'x': expected end of line"},
    {"ImplicitMultiplication", "state x\nx' = 2x\n",
     "line 2, column 7: unexpected name 'x': expected end of line"},
    {"UndefinedNameWithSuggestion", "state x, y\nparam rho = 28\nx' = rhoo * x\ny' = 1\n",
     "line 3, column 6: undefined name 'rhoo' (did you mean 'rho'?)"},
    {"UndefinedName", "state x\nx' = q\n", "line 2, column 6: undefined name 'q'"},
    {"UseBeforeDeclaration", "state x\nx' = k\nparam k\n", "line 2, column 6: undefined name 'k'"},
    {"DuplicateState", "state x, x\nx' = 1\n",
     "line 1, column 10: duplicate name 'x': already declared as a state at line 1, column 7"},
    {"ParamShadowsState", "state x\nparam x\nx' = 1\n",
     "line 2, column 7: duplicate name 'x': already declared as a state at line 1, column 7"},
    {"DuplicateLet", "state x\nlet a = 1\nlet a = 2\nx' = a\n",
     "line 3, column 5: duplicate name 'a': already declared as a let at line 2, column 5"},
    {"DuplicateOutput", "state x\noutput e = x\noutput e = 2*x\nx' = 1\n",
     "line 3, column 8: duplicate name 'e': already declared as an output at line 2, column 8"},
    {"ShadowsFunction", "state x\nlet sin = 2\nx' = 1\n",
     "line 2, column 5: 'sin' is a built-in function and cannot be used as a name"},
    {"ShadowsKeyword", "state let\n",
     "line 1, column 7: 'let' is a keyword and cannot be used as a name"},
    {"ShadowsPi", "param pi = 3\n",
     "line 1, column 7: 'pi' is a built-in constant and cannot be declared"},
    {"DeclaresTime", "state t\nt' = 1\n",
     "line 1, column 7: 't' is the time variable and cannot be declared"},
    {"AssignsTime", "state x\nt' = 1\nx' = 1\n",
     "line 2, column 1: cannot assign to the time variable 't'"},
    {"MissingEquation", "state x,\n  y\nx' = 1\n",
     "line 2, column 3: state 'y' has no equation: expected a line \"y' = ...\""},
    {"EquationForParam", "state x\nparam k\nk' = 1\nx' = 1\n",
     "line 3, column 1: equation for 'k', which is a param: only states have equations"},
    {"EquationForUndefined", "state speed\nsped' = 1\n",
     "line 2, column 1: equation for undefined name 'sped' (did you mean 'speed'?)"},
    {"DuplicateEquation", "state x\nx' = 1\n  x' = 2\n",
     "line 3, column 3: duplicate equation for 'x' (first at line 2, column 1)"},
    {"AssignmentWithoutPrime", "state x\nx = 1\n",
     "line 2, column 3: unexpected '=': expected ''' after 'x' (an equation is written x' = ...)"},
    {"MisspelledKeyword", "stat x = 1\n",
     "line 1, column 1: unexpected name 'stat': expected a statement (state, param, let, output "
     "or an equation x' = ...)"},
    {"StatementStartsWithNumber", "state x\n1 = x\n",
     "line 2, column 1: unexpected number '1': expected a statement (state, param, let, output "
     "or an equation x' = ...)"},
    {"LetWithoutEquals", "state x\nlet y 2\nx' = 1\n",
     "line 2, column 7: unexpected number '2': expected '=' after 'y'"},
    {"EquationWithoutEquals", "state x\nx' x\n",
     "line 2, column 4: unexpected name 'x': expected '=' after x'"},
    {"TrailingCommaInDeclaration", "state x,\n",
     "line 2, column 1: unexpected end of input: expected a name"},
    {"WrongArity", "state x\nx' = atan2(x)\n",
     "line 2, column 6: function 'atan2' takes 2 arguments, got 1"},
    {"WrongArityUnary", "state x\nx' = sin()\n",
     "line 2, column 6: function 'sin' takes 1 argument, got 0"},
    {"WrongArityIfElse", "state x\nx' = ifelse(x > 0, 1)\n",
     "line 2, column 6: function 'ifelse' takes 3 arguments, got 2"},
    {"UnknownFunction", "state x\nx' = foo(x)\n", "line 2, column 6: unknown function 'foo'"},
    {"UnknownFunctionWithSuggestion", "state x\nx' = flor(x)\n",
     "line 2, column 6: unknown function 'flor' (did you mean 'floor'?)"},
    {"CallOfNonFunction", "state x\nx' = x(2)\n", "line 2, column 6: 'x' is not a function"},
    {"FunctionWithoutCall", "state x\nx' = sin + 1\n",
     "line 2, column 10: unexpected '+': expected '(' after the function name 'sin'"},
    {"DefaultUsesState", "state x, y = x\nx' = 1\ny' = 1\n",
     "line 1, column 14: 'x' is a state: a default must be a constant expression (numbers, "
     "functions, pi and earlier params)"},
    {"DefaultUsesTime", "state x = 2*t\nx' = 1\n",
     "line 1, column 13: 't' is the time variable: a default must be a constant expression "
     "(numbers, functions, pi and earlier params)"},
    {"DefaultUsesLet", "state x\nlet y = 1\nparam k = y\nx' = 1\n",
     "line 3, column 11: 'y' is a let: a default must be a constant expression (numbers, "
     "functions, pi and earlier params)"},
    {"InfiniteDefault", "param k = 1/0\nstate x\nx' = 1\n",
     "line 1, column 11: the default of param 'k' is not finite (inf)"},
    {"NaNDefault", "state x = sqrt(-1)\nx' = 1\n",
     "line 1, column 11: the default of state 'x' is not finite (nan)"},
    {"EmptyModel", "",
     "line 1, column 1: the model declares no states: expected at least one "
     "'state' declaration"},
    {"NoStates", "# only params\nparam k = 1\n",
     "line 3, column 1: the model declares no states: expected at least one 'state' declaration"},
    {"NumberOverflow", "state x\nx' = 1e999\n",
     "line 2, column 6: number '1e999' is out of the range of a double"},
    {"MalformedExponent", "state x\nx' = 1e+\n",
     "line 2, column 6: malformed number '1e+': expected digits after the exponent"},
    {"ChainedComparison", "state x, y\nx' = x < y < 1\ny' = 1\n",
     "line 2, column 12: unexpected '<': comparisons cannot be chained (write a < b && b < c)"},
    {"ReservedEvent", "state x\nevent x < 0\nx' = 1\n",
     "line 2, column 1: 'event' is not supported yet (reserved for named events)"},
    {"NoiseKeywordInExpression", "state x\nx' = noise\n",
     "line 2, column 6: unexpected name 'noise': expected an expression"},
    {"TerminateOutsideEvent", "state x\nx' = 1\nterminate\n",
     "line 3, column 1: 'terminate' is an event's action: write it after 'when ...:' or 'at t "
     "= ...:'"},
    {"EventKeywordAsName", "state x\nlet when = 1\nx' = 1\n",
     "line 2, column 5: 'when' is a keyword and cannot be used as a name"},
    {"EventKeywordInExpression", "state x\nx' = at\n",
     "line 2, column 6: unexpected name 'at': expected an expression"},
};

// Test names print as the case's name, not as bytes.
void PrintTo(const BadModel& c, std::ostream* os) { *os << c.name; }

class ErrorsTest : public testing::TestWithParam<BadModel> {};

TEST_P(ErrorsTest, ExactMessage) {
  const BadModel& bad = GetParam();
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(bad.source);
  ASSERT_FALSE(m.ok()) << bad.source;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(), bad.message) << bad.source;
}

INSTANTIATE_TEST_SUITE_P(BadModels, ErrorsTest, testing::ValuesIn(kBadModels),
                         [](const testing::TestParamInfo<BadModel>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace ensolve
