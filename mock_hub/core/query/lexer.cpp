#include "lexer.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

#include "../errors.hpp"
#include "mock_hub/core/ascii.hpp"

namespace mockhub::core::query {
namespace {

constexpr std::string_view invalid_prefix =
    "The query is invalid. Please check the format of the query and try again. ";

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class lexer {
 public:
  explicit lexer(std::string_view text) : text_(text) {}

  std::vector<token> run() {
    std::vector<token> out;
    for (;;) {
      skip_space();
      token t;
      t.offset = pos_;
      if (pos_ >= text_.size()) {
        t.kind = token_kind::end;
        out.push_back(std::move(t));
        return out;
      }
      const bool after_dot_or_as =
          !out.empty() && (out.back().kind == token_kind::dot ||
                           (out.back().kind == token_kind::identifier && iequals(out.back().text, "AS")));
      const char c = text_[pos_];
      if (c == '[' && after_dot_or_as && peek(1) == '[') {
        quoted_identifier(t);
      } else if (is_ident_start(c)) {
        while (pos_ < text_.size() && is_ident_char(text_[pos_])) ++pos_;
        t.kind = token_kind::identifier;
        t.text = std::string(text_.substr(t.offset, pos_ - t.offset));
      } else if (is_digit(c)) {
        number(t);
      } else if (c == '\'' || c == '"') {
        string(t, c);
      } else {
        punct(t, c);
      }
      t.raw = text_.substr(t.offset, pos_ - t.offset);
      out.push_back(std::move(t));
    }
  }

 private:
  char peek(std::size_t ahead) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  void quoted_identifier(token& t) {
    const std::size_t start = pos_ + 2;
    const std::size_t close = text_.find("]]", start);
    if (close == std::string_view::npos) {
      throw_syntax_error(text_, t.offset, "a name in [[ ]] is not closed with ]]");
    }
    if (close == start) throw_syntax_error(text_, t.offset, "a name in [[ ]] cannot be empty");
    t.kind = token_kind::quoted_identifier;
    t.text = std::string(text_.substr(start, close - start));
    pos_ = close + 2;
  }

  void number(token& t) {
    const std::size_t start = pos_;
    if (text_[pos_] == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      pos_ += 2;
      const std::size_t digits = pos_;
      std::uint64_t v = 0;
      bool overflow = false;
      while (pos_ < text_.size() && is_hex(text_[pos_])) {
        if (v > (std::numeric_limits<std::uint64_t>::max() >> 4)) overflow = true;
        v = (v << 4) | static_cast<std::uint64_t>(hex_value(text_[pos_]));
        ++pos_;
      }
      if (pos_ == digits) throw_syntax_error(text_, start, "a hexadecimal number needs digits after 0x");
      if (pos_ < text_.size() && is_ident_char(text_[pos_])) {
        throw_syntax_error(text_, start, "malformed number '" + std::string(text_.substr(start, pos_ + 1 - start)) + "'");
      }
      if (overflow || v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        t.number = static_cast<double>(v);
      } else {
        t.number = static_cast<std::int64_t>(v);
      }
      t.kind = token_kind::number;
      return;
    }
    bool is_float = false;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.' && is_digit(peek(1))) {
      is_float = true;
      ++pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      const std::size_t exp_digits = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      if (pos_ == exp_digits) throw_syntax_error(text_, start, "a number's exponent needs digits");
    }
    if (pos_ < text_.size() && is_ident_char(text_[pos_])) {
      throw_syntax_error(text_, start, "malformed number '" + std::string(text_.substr(start, pos_ + 1 - start)) + "'");
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    t.kind = token_kind::number;
    if (!is_float) {
      std::int64_t v = 0;
      auto r = std::from_chars(first, last, v);
      if (r.ec == std::errc() && r.ptr == last) {
        t.number = v;
        return;
      }
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) {
      throw_syntax_error(text_, start, "number '" + std::string(text_.substr(start, pos_ - start)) + "' is out of range");
    }
    t.number = d;
  }

  std::uint32_t hex4(std::size_t at, std::size_t escape_offset) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      if (at + i >= text_.size() || !is_hex(text_[at + i])) {
        throw_syntax_error(text_, escape_offset, "\\u must be followed by four hexadecimal digits");
      }
      v = (v << 4) | static_cast<std::uint32_t>(hex_value(text_[at + i]));
    }
    return v;
  }

  void string(token& t, char quote) {
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) throw_syntax_error(text_, t.offset, "the string is not closed");
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const std::size_t escape_offset = pos_;
      const char e = peek(1);
      if (e == '\'' || e == '"' || e == '\\') {
        out += e;
        pos_ += 2;
      } else if (e == 'u') {
        std::uint32_t cp = hex4(pos_ + 2, escape_offset);
        pos_ += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (peek(0) != '\\' || peek(1) != 'u') {
            throw_syntax_error(text_, escape_offset, "a \\u high surrogate must be followed by a \\u low surrogate");
          }
          const std::uint32_t low = hex4(pos_ + 2, pos_);
          if (low < 0xDC00 || low > 0xDFFF) {
            throw_syntax_error(text_, pos_, "a \\u high surrogate must be followed by a \\u low surrogate");
          }
          pos_ += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          throw_syntax_error(text_, escape_offset, "a \\u low surrogate without a high surrogate");
        }
        append_utf8(out, cp);
      } else {
        throw_syntax_error(text_, escape_offset,
                           "invalid escape; a string allows only \\', \\\", \\\\ and \\uXXXX");
      }
    }
    t.kind = token_kind::string;
    t.text = std::move(out);
  }

  void punct(token& t, char c) {
    const char n = peek(1);
    std::size_t len = 1;
    switch (c) {
      case '(': t.kind = token_kind::lparen; break;
      case ')': t.kind = token_kind::rparen; break;
      case '[': t.kind = token_kind::lbracket; break;
      case ']': t.kind = token_kind::rbracket; break;
      case ',': t.kind = token_kind::comma; break;
      case '.': t.kind = token_kind::dot; break;
      case '*': t.kind = token_kind::star; break;
      case '+': t.kind = token_kind::plus; break;
      case '-': t.kind = token_kind::minus; break;
      case '/': t.kind = token_kind::slash; break;
      case '%': t.kind = token_kind::percent; break;
      case '=': t.kind = token_kind::eq; break;
      case '!':
        if (n != '=') throw_syntax_error(text_, pos_, "unexpected character '!' (did you mean '!='?)");
        t.kind = token_kind::ne;
        len = 2;
        break;
      case '<':
        if (n == '=') {
          t.kind = token_kind::le;
          len = 2;
        } else if (n == '>') {
          t.kind = token_kind::ne;
          len = 2;
        } else {
          t.kind = token_kind::lt;
        }
        break;
      case '>':
        if (n == '=') {
          t.kind = token_kind::ge;
          len = 2;
        } else {
          t.kind = token_kind::gt;
        }
        break;
      default: {
        std::string shown;
        if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F) {
          shown = std::string("'") + c + "'";
        } else {
          static constexpr char digits[] = "0123456789ABCDEF";
          const auto u = static_cast<unsigned char>(c);
          shown = std::string("byte 0x") + digits[u >> 4] + digits[u & 0xF];
        }
        throw_syntax_error(text_, pos_, "unexpected character " + shown);
      }
    }
    pos_ += len;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<token> tokenize(std::string_view text) { return lexer(text).run(); }

std::string describe(const token& t) {
  switch (t.kind) {
    case token_kind::end: return "end of query";
    case token_kind::string: return "string " + std::string(t.raw);
    case token_kind::number: return "number " + std::string(t.raw);
    default: return "'" + std::string(t.raw) + "'";
  }
}

void throw_syntax_error(std::string_view text, std::size_t offset, std::string_view what) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;  // count characters, not UTF-8 continuation bytes
    }
  }
  throw errors::generic_bad_request(std::string(invalid_prefix) + "Syntax error at line " + std::to_string(line) +
                                    ", column " + std::to_string(column) + ": " + std::string(what));
}

void throw_invalid_query(std::string_view what) {
  throw errors::generic_bad_request(std::string(invalid_prefix) + std::string(what));
}

}  // namespace mockhub::core::query
