#include <gtest/gtest.h>
TEST(Raw, Placeholder) {}
