#include "client/npy.h"

#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Npy, HeaderIsWhatNumpyWrites) {
  // numpy.save of np.zeros((2, 3)) writes exactly this 128-byte-aligned header.
  const std::string h = NpyHeader("<f8", {2, 3});
  EXPECT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_THAT(h, HasSubstr("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"));
  EXPECT_EQ(h.back(), '\n');
  EXPECT_THAT(NpyHeader("<f4", {5}), HasSubstr("'shape': (5,), }"));
}

TEST(Npy, RoundTripsThroughAFile) {
  const std::string path = ::testing::TempDir() + "/a.npy";
  std::vector<double> v = {1.5, -2, 3e300, 0, 7, 8};
  ASSERT_TRUE(WriteNpy(path, "<f8", {3, 2}, v.data(), v.size() * 8).ok());
  absl::StatusOr<NpyArray> a = ReadNpy(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<f8");
  EXPECT_THAT(a->shape, ElementsAre(3, 2));
  EXPECT_EQ(*NpyToDoubles(*a), v);
}

TEST(Npy, ParsesNumpyVariantsAndIntegerTypes) {
  // Version 2.0 header, double-quoted keys, no trailing comma, int32 data.
  std::string dict = "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (3,)}";
  dict.append(64 - (12 + dict.size() + 1) % 64, ' ');
  dict.push_back('\n');
  std::string bytes("\x93NUMPY\x02\x00", 8);
  const uint32_t len = static_cast<uint32_t>(dict.size());
  bytes.append(reinterpret_cast<const char*>(&len), 4);
  bytes += dict;
  const int32_t data[3] = {-1, 2, 2147483647};
  bytes.append(reinterpret_cast<const char*>(data), sizeof(data));
  absl::StatusOr<NpyArray> a = ParseNpy(bytes);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(*NpyToDoubles(*a), ElementsAre(-1, 2, 2147483647));
}

// What np.save writes for np.asfortranarray(a.astype(">i4")) with a = [[1, 2, 3], [4, 5, 6]]:
// a big-endian header and the columns one after another.
TEST(Npy, ReadsFortranOrderAndBigEndian) {
  std::string h = NpyHeader(">i4", {2, 3});
  h.replace(h.find("False"), 5, "True ");
  std::string data;
  for (int v : {1, 4, 2, 5, 3, 6}) data += std::string{0, 0, 0, static_cast<char>(v)};
  absl::StatusOr<NpyArray> a = ParseNpy(h + data);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<i4");
  EXPECT_THAT(a->shape, ElementsAre(2, 3));
  EXPECT_THAT(*NpyToDoubles(*a), ElementsAre(1, 2, 3, 4, 5, 6));

  std::string f3 = NpyHeader("<f8", {2, 2, 2});
  f3.replace(f3.find("False"), 5, "True ");
  std::string d3;
  for (double v : {0, 4, 2, 6, 1, 5, 3, 7}) d3.append(reinterpret_cast<const char*>(&v), 8);
  a = ParseNpy(f3 + d3);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(*NpyToDoubles(*a), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
}

TEST(Npy, RejectsWhatItCannotRead) {
  EXPECT_THAT(ParseNpy("hello", "x.npy").status().message(), HasSubstr("x.npy: not a .npy"));
  std::string h = NpyHeader("<f8", {4});
  EXPECT_THAT(ParseNpy(h + std::string(8, '\0')).status().message(), HasSubstr("truncated"));
  std::string complex = NpyHeader("<c8", {1});
  EXPECT_THAT(ParseNpy(complex + std::string(8, '\0')).status().message(),
              HasSubstr("unsupported dtype"));
  EXPECT_EQ(ReadNpy("/nonexistent.npy").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ensolve
