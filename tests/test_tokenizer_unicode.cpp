// The tokenizer's Unicode layer: UTF-8 decoding with maximal-subpart replacement, the character
// classes of the pre-tokenizer regex, NFC, and the regex's splitting rules on hand-made cases.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xlstm/tokenizer/pre_tokenizer.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(TokenizerUnicode, LossyUtf8ReplacesMaximalSubparts) {
  EXPECT_EQ(unicode::to_valid_utf8("a\xC3\xA9z"), "a\xC3\xA9z");
  EXPECT_EQ(unicode::to_valid_utf8("\xF0\x9F\x98"), kFffd);               // truncated 4-byte character
  EXPECT_EQ(unicode::to_valid_utf8("\xE0\x80"), kFffd + kFffd);           // 80 cannot follow E0
  EXPECT_EQ(unicode::to_valid_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a surrogate
  EXPECT_EQ(unicode::to_valid_utf8("\xC0\xAF" "a\xFF"), kFffd + kFffd + "a" + kFffd);
  EXPECT_EQ(unicode::to_valid_utf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
  EXPECT_EQ(unicode::find_invalid_utf8("ok\xE2\x82"), 2u);
  EXPECT_EQ(unicode::find_invalid_utf8("\xF0\x9F\x98\x80"), std::string::npos);
}

TEST(TokenizerUnicode, CharacterClasses) {
  EXPECT_TRUE(unicode::is_letter(U'A'));
  EXPECT_TRUE(unicode::is_letter(0x00AA));   // ª, Lo
  EXPECT_TRUE(unicode::is_letter(0x4E2D));   // 中
  EXPECT_TRUE(unicode::is_letter(0x105C0));  // Todhri, new in Unicode 16
  EXPECT_FALSE(unicode::is_letter(0x0301));  // a combining mark is not a letter
  EXPECT_TRUE(unicode::is_number(0x00BD));   // ½, No
  EXPECT_TRUE(unicode::is_number(0x216B));   // Ⅻ, Nl
  EXPECT_FALSE(unicode::is_number(U'x'));
  for (char32_t c : {0x09, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x3000})
    EXPECT_TRUE(unicode::is_whitespace(c)) << c;
  for (char32_t c : {0x1C, 0x1F, 0x200B, 0xFEFF, 0x180E}) EXPECT_FALSE(unicode::is_whitespace(c)) << c;
  EXPECT_EQ(unicode::combining_class(0x0301), 230);
  EXPECT_EQ(unicode::combining_class(0x0323), 220);
  EXPECT_STREQ(unicode::unicode_version(), "16.0.0");
  EXPECT_STREQ(unicode::normalization_unicode_version(), "9.0.0");
}

TEST(TokenizerUnicode, Nfc) {
  EXPECT_EQ(unicode::nfc("cafe\xCC\x81"), "caf\xC3\xA9");                    // e + acute -> é
  EXPECT_EQ(unicode::nfc("\xE2\x84\xAB"), "\xC3\x85");                      // Angstrom sign -> Å
  EXPECT_EQ(unicode::nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // jamo -> 각
  EXPECT_EQ(unicode::nfc("q\xCC\x87\xCC\xA3"), "q\xCC\xA3\xCC\x87");          // marks reordered, no composite
  EXPECT_EQ(unicode::nfc("\xCD\x84"), "\xCC\x88\xCC\x81");                    // U+0344 is excluded
  EXPECT_EQ(unicode::nfc("\xCC\x81" "a"), "\xCC\x81" "a");                    // leading mark stays
  EXPECT_EQ(unicode::nfc("plain ascii"), "plain ascii");
  // U+07FD (ccc 220, Unicode 11) is a starter in Unicode 9.0 data: it blocks the acute accent.
  EXPECT_EQ(unicode::nfc("a\xDF\xBD\xCC\x81"), "a\xDF\xBD\xCC\x81");
  EXPECT_EQ(unicode::nfc("a\xCC\xA3\xCC\x81"), "\xE1\xBA\xA1\xCC\x81");  // ạ + acute
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view piece : split_gpt2(text)) out.emplace_back(piece);
  return out;
}

TEST(TokenizerUnicode, Gpt2PreTokenizer) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("Hello   world"), (V{"Hello", "  ", " world"}));  // the last space joins the word
  EXPECT_EQ(split("a\t\tb"), (V{"a", "\t", "\t", "b"}));             // only U+0020 joins
  EXPECT_EQ(split("end  "), (V{"end", "  "}));                       // trailing run stays whole
  EXPECT_EQ(split("don't I'LL they're"), (V{"don", "'t", " I", "'", "LL", " they", "'re"}));
  EXPECT_EQ(split("x?'s"), (V{"x", "?'", "s"}));
  EXPECT_EQ(split("abc123 456!!"), (V{"abc", "123", " 456", "!!"}));
  EXPECT_EQ(split(" \xE4\xB8\xAD\xE6\x96\x87 \xC2\xBD"), (V{" \xE4\xB8\xAD\xE6\x96\x87", " \xC2\xBD"}));
  EXPECT_EQ(split("a\xC2\xA0" "b"), (V{"a", "\xC2\xA0", "b"}));  // NBSP is whitespace, not " "
  EXPECT_TRUE(split("").empty());
}

}  // namespace
}  // namespace xlstm::tokenizer
