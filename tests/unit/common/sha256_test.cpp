// cube::Sha256 against known vectors and against sha256sum.
#include "sha256.hpp"
#include "error.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

using namespace cube;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingEqualsOneShot) {
  std::string data;
  std::mt19937 rng(7);
  for (int i = 0; i < 100'000; ++i) data += static_cast<char>(rng());
  std::string one = sha256_hex(data);
  for (size_t step : {1, 3, 63, 64, 65, 4096, 99'999}) {
    Sha256 h;
    for (size_t at = 0; at < data.size(); at += step) h.update(std::string_view(data).substr(at, step));
    EXPECT_EQ(h.hex(), one) << step;
  }
  Sha256 nothing;
  nothing.update(nullptr, 0);
  EXPECT_EQ(nothing.hex(), sha256_hex(""));
}

TEST(Sha256, FileLargerThanTheBufferEqualsSha256sum) {
  test::TempDir tmp;
  std::string file = tmp / "big.bin";
  std::string data(4 * 1024 * 1024 + 12'345, '\0');
  std::mt19937 rng(11);
  for (char& c : data) c = static_cast<char>(rng());
  test::write_text(file, data);
  std::string ours = sha256_file(file);
  EXPECT_EQ(ours, sha256_hex(data));
  FILE* p = ::popen(("sha256sum " + file).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[65] = {};
  ASSERT_EQ(std::fread(buf, 1, 64, p), 64u);
  ::pclose(p);
  EXPECT_EQ(ours, std::string(buf, 64));
  // Exactly one buffer, and empty.
  test::write_text(tmp / "exact", data.substr(0, 4 * 1024 * 1024));
  EXPECT_EQ(sha256_file(tmp / "exact"), sha256_hex(data.substr(0, 4 * 1024 * 1024)));
  test::write_text(tmp / "empty", "");
  EXPECT_EQ(sha256_file(tmp / "empty"), sha256_hex(""));
}

TEST(Sha256, MissingFileIsNotFoundNamingIt) {
  try {
    sha256_file("/nonexistent/cube-file");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::not_found);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cube-file"), std::string::npos);
  }
  EXPECT_THROW(sha256_file("/"), Error);  // a directory cannot be read
}
