#include "server/client_text.h"

#include <string>

#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

TEST(ClientTextTest, ShortTextIsKept) {
  EXPECT_EQ(ClientText("tsit5"), "tsit5");
  EXPECT_EQ(ClientText(""), "");
}

TEST(ClientTextTest, LongTextIsCutAndItsSizeNamed) {
  const std::string mib(1 << 20, 'a');
  const std::string shown = ClientText(mib);
  EXPECT_EQ(shown, std::string(kMaxEchoedBytes, 'a') + "...(1048576 bytes)");
  EXPECT_EQ(ClientText("abcdef", 3), "abc...(6 bytes)");
}

TEST(ClientTextTest, UnprintableBytesAreEscaped) {
  EXPECT_EQ(ClientText(std::string("a\nb\x01\xff", 5)), "a\\x0ab\\x01\\xff");
}

TEST(ClientTextTest, BoundedMessage) {
  EXPECT_EQ(BoundedMessage("short"), "short");
  const std::string big(10000, 'm');
  EXPECT_EQ(BoundedMessage(big), std::string(kMaxMessageBytes, 'm') + "...(10000 bytes)");
}

}  // namespace
}  // namespace ensolve::server
