#include "parser.hpp"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "lexer.hpp"
#include "mock_hub/core/ascii.hpp"

namespace mockhub::core::query {
namespace {

using ast::expr;
using ast::expr_kind;
using ast::expr_ptr;

void check_length(std::string_view text) {
  const std::size_t n = character_count(text);
  if (n > max_query_length) {
    throw_invalid_query("The query is " + std::to_string(n) + " characters long; the maximum is " +
                        std::to_string(max_query_length) + ".");
  }
}

class parser {
 public:
  explicit parser(std::string_view text) : text_(text), tokens_(tokenize(text)) {}

  ast::query query() {
    ast::query q;
    expect_keyword("SELECT");
    if (is_keyword("TOP")) {
      next();
      const token& t = peek();
      if (t.kind != token_kind::number || !t.number.is_number_integer()) {
        fail_expected("a whole number after TOP");
      }
      q.top = t.number.get<std::int64_t>();
      next();
    }
    if (peek().kind == token_kind::star) {
      next();
      q.select_all = true;
    } else {
      do {
        q.projections.push_back(projection());
      } while (accept(token_kind::comma));
    }
    expect_keyword("FROM");
    q.from = collection();
    if (is_keyword("WHERE")) {
      next();
      q.where = expression();
    }
    if (is_keyword("GROUP")) {
      next();
      expect_keyword("BY");
      do {
        if (peek().kind != token_kind::identifier || ast::is_keyword(peek().text)) {
          fail_expected("a property path after GROUP BY");
        }
        q.group_by.push_back(path());
      } while (accept(token_kind::comma));
    }
    if (peek().kind != token_kind::end) {
      fail_expected(q.group_by.empty() ? (q.where ? "GROUP BY or the end of the query"
                                                  : "WHERE, GROUP BY or the end of the query")
                                       : "',' or the end of the query");
    }
    return q;
  }

  expr_ptr condition() {
    if (peek().kind == token_kind::star && tokens_[pos_ + 1].kind == token_kind::end) return nullptr;
    auto e = expression();
    if (peek().kind != token_kind::end) fail_expected("an operator or the end of the condition");
    return e;
  }

 private:
  const token& peek() const { return tokens_[pos_]; }
  const token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool accept(token_kind k) {
    if (peek().kind != k) return false;
    next();
    return true;
  }
  bool is_keyword(std::string_view word) const {
    return peek().kind == token_kind::identifier && iequals(peek().text, word);
  }
  [[noreturn]] void fail_expected(std::string_view what) const {
    throw_syntax_error(text_, peek().offset, "expected " + std::string(what) + " but found " + describe(peek()));
  }
  void expect_keyword(std::string_view word) {
    if (!is_keyword(word)) fail_expected("'" + std::string(word) + "'");
    next();
  }
  void expect(token_kind k, std::string_view what) {
    if (peek().kind != k) fail_expected(what);
    next();
  }

  struct depth_guard {
    explicit depth_guard(parser& p) : p_(p) {
      if (++p_.depth_ > max_nesting_depth) {
        throw_syntax_error(p_.text_, p_.peek().offset,
                           "the expression nests more than " + std::to_string(max_nesting_depth) + " levels deep");
      }
    }
    ~depth_guard() { --p_.depth_; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
    parser& p_;
  };

  ast::collection collection() {
    if (!is_keyword("devices")) fail_expected("'devices', 'devices.modules' or 'devices.jobs'");
    next();
    if (!accept(token_kind::dot)) return ast::collection::devices;
    if (is_keyword("modules")) {
      next();
      return ast::collection::modules;
    }
    if (is_keyword("jobs")) {
      next();
      return ast::collection::jobs;
    }
    fail_expected("'modules' or 'jobs' after 'devices.'");
  }

  ast::projection projection() {
    ast::projection p;
    const token& t = peek();
    if (t.kind != token_kind::identifier || ast::is_keyword(t.text)) {
      fail_expected("'*', a property path or an aggregate such as COUNT()");
    }
    if (tokens_[pos_ + 1].kind == token_kind::lparen) {
      auto call = node(expr_kind::call, t.offset);
      call->function = t.text;
      next();
      next();
      if (peek().kind != token_kind::rparen) {
        do {
          if (peek().kind != token_kind::identifier || ast::is_keyword(peek().text)) {
            fail_expected("a property path as the aggregate's argument");
          }
          call->children.push_back(path());
        } while (accept(token_kind::comma));
      }
      expect(token_kind::rparen, "')'");
      p.value = std::move(call);
    } else {
      p.value = path();
    }
    if (is_keyword("AS")) {
      next();
      const token& a = peek();
      if (a.kind == token_kind::quoted_identifier || (a.kind == token_kind::identifier && !ast::is_keyword(a.text))) {
        p.alias = a.text;
        next();
      } else {
        fail_expected("an alias after AS");
      }
    }
    return p;
  }

  static expr_ptr node(expr_kind k, std::size_t offset) {
    auto e = std::make_unique<expr>();
    e->kind = k;
    e->offset = offset;
    return e;
  }

  // path := segment ('.' segment)*, the first segment a plain identifier.
  expr_ptr path() {
    auto e = node(expr_kind::path, peek().offset);
    e->path.push_back(peek().text);
    next();
    while (peek().kind == token_kind::dot) {
      next();
      const token& s = peek();
      if (s.kind == token_kind::quoted_identifier) {
        e->path.push_back(s.text);
      } else if (s.kind == token_kind::identifier) {
        if (ast::is_keyword(s.text)) {
          throw_syntax_error(text_, s.offset,
                             "'" + s.text + "' is a keyword; write the property name as [[" + s.text + "]]");
        }
        e->path.push_back(s.text);
      } else {
        fail_expected("a property name after '.'");
      }
      next();
    }
    return e;
  }

  expr_ptr expression() { return or_expr(); }

  expr_ptr binary(ast::binary_op op, expr_ptr l, expr_ptr r) {
    auto e = node(expr_kind::binary, l->offset);
    e->binary = op;
    e->children.push_back(std::move(l));
    e->children.push_back(std::move(r));
    return e;
  }

  expr_ptr or_expr() {
    auto l = and_expr();
    while (is_keyword("OR")) {
      next();
      l = binary(ast::binary_op::or_, std::move(l), and_expr());
    }
    return l;
  }

  expr_ptr and_expr() {
    auto l = not_expr();
    while (is_keyword("AND")) {
      next();
      l = binary(ast::binary_op::and_, std::move(l), not_expr());
    }
    return l;
  }

  expr_ptr not_expr() {
    if (!is_keyword("NOT")) return comparison();
    depth_guard guard(*this);
    auto e = node(expr_kind::unary, peek().offset);
    next();
    e->unary = ast::unary_op::not_;
    e->children.push_back(not_expr());
    return e;
  }

  static bool comparison_op(token_kind k, ast::binary_op& op) {
    switch (k) {
      case token_kind::eq: op = ast::binary_op::eq; return true;
      case token_kind::ne: op = ast::binary_op::ne; return true;
      case token_kind::lt: op = ast::binary_op::lt; return true;
      case token_kind::gt: op = ast::binary_op::gt; return true;
      case token_kind::le: op = ast::binary_op::le; return true;
      case token_kind::ge: op = ast::binary_op::ge; return true;
      default: return false;
    }
  }

  expr_ptr comparison() {
    auto l = additive();
    for (;;) {
      ast::binary_op op{};
      if (comparison_op(peek().kind, op)) {
        next();
        l = binary(op, std::move(l), additive());
      } else if (is_keyword("IN") || is_keyword("NIN")) {
        auto e = node(expr_kind::in, l->offset);
        e->negated = iequals(peek().text, "NIN");
        next();
        if (peek().kind != token_kind::lbracket) fail_expected("an array constant such as ['a', 'b'] after IN/NIN");
        e->children.push_back(std::move(l));
        e->children.push_back(array_constant());
        l = std::move(e);
      } else {
        return l;
      }
    }
  }

  expr_ptr additive() {
    auto l = multiplicative();
    for (;;) {
      if (peek().kind == token_kind::plus) {
        next();
        l = binary(ast::binary_op::add, std::move(l), multiplicative());
      } else if (peek().kind == token_kind::minus) {
        next();
        l = binary(ast::binary_op::sub, std::move(l), multiplicative());
      } else {
        return l;
      }
    }
  }

  expr_ptr multiplicative() {
    auto l = unary();
    for (;;) {
      ast::binary_op op{};
      switch (peek().kind) {
        case token_kind::star: op = ast::binary_op::mul; break;
        case token_kind::slash: op = ast::binary_op::div; break;
        case token_kind::percent: op = ast::binary_op::mod; break;
        default: return l;
      }
      next();
      l = binary(op, std::move(l), unary());
    }
  }

  static void negate_number(nlohmann::json& v) {
    if (v.is_number_integer() && v.get<std::int64_t>() != std::numeric_limits<std::int64_t>::min()) {
      v = -v.get<std::int64_t>();
    } else {
      v = -v.get<double>();
    }
  }

  expr_ptr unary() {
    if (peek().kind != token_kind::minus && peek().kind != token_kind::plus) return primary();
    depth_guard guard(*this);
    const bool minus = peek().kind == token_kind::minus;
    const std::size_t offset = peek().offset;
    next();
    auto operand = unary();
    if (operand->kind == expr_kind::constant && operand->value.is_number()) {
      // A signed number literal is one constant: -5, and the sign folds into it.
      if (minus) negate_number(operand->value);
      operand->offset = offset;
      return operand;
    }
    if (!minus) return operand;
    auto e = node(expr_kind::unary, offset);
    e->unary = ast::unary_op::minus;
    e->children.push_back(std::move(operand));
    return e;
  }

  // constant := undefined | null | true | false | ['-'|'+'] number | string | array constant
  nlohmann::json constant_value(bool allow_undefined) {
    const token& t = peek();
    nlohmann::json v;
    if (t.kind == token_kind::number) {
      v = t.number;
    } else if (t.kind == token_kind::minus || t.kind == token_kind::plus) {
      const bool minus = t.kind == token_kind::minus;
      next();
      if (peek().kind != token_kind::number) fail_expected("a number after the sign");
      v = peek().number;
      if (minus) negate_number(v);
    } else if (t.kind == token_kind::string) {
      v = t.text;
    } else if (t.kind == token_kind::lbracket) {
      return array_constant()->value;
    } else if (t.kind == token_kind::identifier && iequals(t.text, "true")) {
      v = true;
    } else if (t.kind == token_kind::identifier && iequals(t.text, "false")) {
      v = false;
    } else if (t.kind == token_kind::identifier && iequals(t.text, "null")) {
      v = nullptr;
    } else if (allow_undefined && t.kind == token_kind::identifier && iequals(t.text, "undefined")) {
      v = nlohmann::json(nlohmann::json::value_t::discarded);
    } else {
      fail_expected("a constant (a string, a number, true, false, null or an array)");
    }
    next();
    return v;
  }

  // array constant := '[' [constant (',' constant)*] ']'
  expr_ptr array_constant() {
    depth_guard guard(*this);
    auto e = node(expr_kind::constant, peek().offset);
    expect(token_kind::lbracket, "'['");
    e->value = nlohmann::json::array();
    if (peek().kind != token_kind::rbracket) {
      do {
        e->value.push_back(constant_value(false));
      } while (accept(token_kind::comma));
    }
    expect(token_kind::rbracket, "',' or ']'");
    return e;
  }

  expr_ptr primary() {
    const token& t = peek();
    switch (t.kind) {
      case token_kind::number:
      case token_kind::string: {
        auto e = node(expr_kind::constant, t.offset);
        e->value = constant_value(true);
        return e;
      }
      case token_kind::lbracket: return array_constant();
      case token_kind::lparen: {
        depth_guard guard(*this);
        next();
        auto e = expression();
        expect(token_kind::rparen, "')'");
        return e;
      }
      case token_kind::identifier: break;
      default: fail_expected("an expression");
    }
    if (iequals(t.text, "true") || iequals(t.text, "false") || iequals(t.text, "null") ||
        iequals(t.text, "undefined")) {
      auto e = node(expr_kind::constant, t.offset);
      e->value = constant_value(true);
      return e;
    }
    if (ast::is_keyword(t.text)) fail_expected("an expression");
    if (tokens_[pos_ + 1].kind == token_kind::lparen) {
      depth_guard guard(*this);
      auto e = node(expr_kind::call, t.offset);
      e->function = t.text;
      next();
      next();
      if (peek().kind != token_kind::rparen) {
        do {
          e->children.push_back(expression());
        } while (accept(token_kind::comma));
      }
      expect(token_kind::rparen, "',' or ')'");
      return e;
    }
    return path();
  }

  std::string_view text_;
  std::vector<token> tokens_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
};

}  // namespace

std::size_t character_count(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

ast::query parse_query(std::string_view text) {
  check_length(text);
  return parser(text).query();
}

ast::expr_ptr parse_condition(std::string_view text) {
  check_length(text);
  return parser(text).condition();
}

}  // namespace mockhub::core::query
