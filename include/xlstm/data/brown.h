// The Brown Corpus in its tagged form C (files ca01 ... cr09: one sentence per line, tokens written
// `word/tag`, a tab before the first sentence of a paragraph, blank lines between paragraphs) turned
// into readable plain text.
//
// Reconstruction rules:
//   - the tag is everything after a token's last '/' ("1-1/2/cd" is the word "1-1/2");
//   - sentences of a paragraph are joined by one space, paragraphs by a blank line ("\n\n"), and the
//     text ends with "\n";
//   - words are separated by one space, except: no space before , . ; : ? ! ) ] } and closing quotes;
//     no space after ( [ { and opening quotes;
//   - `` and '' (the corpus's opening and closing double quotes) become ", and a lone ' is an opening
//     quote when no single quote is open in the paragraph and a closing one otherwise; the dash -- and
//     all other tokens are kept as written (e.g. "didn't", "Atlanta's");
//   - a sentence's final ; ? ! or :, which this distribution writes twice ("?/. ?/."), is kept once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xlstm::data {

// The plain text of one tagged Brown file.
std::string brown_plain_text(std::string_view tagged);

// The document files of a Brown folder (names c + genre letter + two digits), sorted; DataError
// when the folder cannot be read or holds none.
std::vector<std::string> brown_documents(const std::string& corpus_dir);

}  // namespace xlstm::data
