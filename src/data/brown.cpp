// Tagged Brown Corpus files to plain text (rules in brown.h) and the list of a folder's documents.
#include "xlstm/data/brown.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

#include "xlstm/data/error.h"

namespace xlstm::data {
namespace {

// The words of one tagged line, tags removed.
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) ++pos;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    if (end == pos) break;
    std::string_view token = line.substr(pos, end - pos);
    const size_t slash = token.rfind('/');
    if (slash != std::string_view::npos && slash > 0) token = token.substr(0, slash);
    words.push_back(token);
    pos = end;
  }
  return words;
}

// Joins the words of one paragraph with the spacing rules of brown.h.
class ParagraphWriter {
 public:

  void add(std::string_view word) {
    static const std::set<std::string_view> no_space_before{",", ".", ";", ":", "?", "!", ")", "]", "}"};
    static const std::set<std::string_view> no_space_after{"(", "[", "{"};
    bool opening = false, closing = false;
    std::string_view text = word;
    if (word == "``") {
      text = "\"", opening = true;
    } else if (word == "''") {
      text = "\"", closing = true;
    } else if (word == "'") {
      closing = single_quote_open_;
      opening = !closing;
      single_quote_open_ = opening;
    }
    const bool space = !out_.empty() && !glue_next_ && !closing && !no_space_before.count(text);
    if (space) out_ += ' ';
    out_ += text;
    glue_next_ = opening || no_space_after.count(text);
  }
  bool empty() const { return out_.empty(); }
  // The paragraph's text; the writer starts a new paragraph.
  std::string take() {
    std::string text = std::move(out_);
    *this = ParagraphWriter();
    return text;
  }

 private:
  std::string out_;
  bool glue_next_ = false;
  bool single_quote_open_ = false;
};

}  // namespace

std::string brown_plain_text(std::string_view tagged) {
  std::string text;
  ParagraphWriter writer;
  const auto end_paragraph = [&] {
    if (writer.empty()) return;
    if (!text.empty()) text += "\n\n";
    text += writer.take();
  };
  for (size_t pos = 0; pos <= tagged.size();) {
    size_t end = tagged.find('\n', pos);
    if (end == std::string_view::npos) end = tagged.size();
    const std::string_view line = tagged.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string_view> words = words_of(line);
    const size_t n = words.size();
    if (n >= 2 && words[n - 1] == words[n - 2] && (words[n - 1] == ";" || words[n - 1] == "?" || words[n - 1] == "!" || words[n - 1] == ":"))
      words.pop_back();  // the distribution writes a sentence's final ; ? ! : twice
    if (words.empty() || line[0] == '\t') end_paragraph();
    for (const std::string_view word : words) writer.add(word);
  }
  end_paragraph();
  if (!text.empty()) text += "\n";
  return text;
}

std::vector<std::string> brown_documents(const std::string& corpus_dir) {
  DIR* dir = opendir(corpus_dir.c_str());
  if (!dir) throw DataError(corpus_dir + ": cannot read the corpus folder (" + std::strerror(errno) + ")");
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.size() == 4 && name[0] == 'c' && name[1] >= 'a' && name[1] <= 'r' && std::isdigit(static_cast<unsigned char>(name[2])) &&
        std::isdigit(static_cast<unsigned char>(name[3])))
      names.push_back(name);
  }
  closedir(dir);
  if (names.empty()) throw DataError(corpus_dir + ": no Brown Corpus documents (files ca01 ... cr09) in the folder");
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace xlstm::data
