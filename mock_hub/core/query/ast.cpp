#include "ast.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace mockhub::core::query::ast {
namespace {

// Binding strength, loosest first. Used to print the fewest parentheses that keep the meaning.
enum precedence : int { p_or = 1, p_and, p_not, p_compare, p_add, p_mul, p_unary, p_primary };

int precedence_of(const expr& e) {
  switch (e.kind) {
    case expr_kind::unary: return e.unary == unary_op::not_ ? p_not : p_unary;
    case expr_kind::in: return p_compare;
    case expr_kind::binary:
      switch (e.binary) {
        case binary_op::or_: return p_or;
        case binary_op::and_: return p_and;
        case binary_op::add:
        case binary_op::sub: return p_add;
        case binary_op::mul:
        case binary_op::div:
        case binary_op::mod: return p_mul;
        default: return p_compare;
      }
    case expr_kind::constant:
      // A negative number prints with its sign, which binds like a unary minus.
      if (e.value.is_number() && std::signbit(e.value.get<double>())) return p_unary;
      return p_primary;
    default: return p_primary;
  }
}

std::string_view op_text(binary_op op) {
  switch (op) {
    case binary_op::or_: return "OR";
    case binary_op::and_: return "AND";
    case binary_op::eq: return "=";
    case binary_op::ne: return "!=";
    case binary_op::lt: return "<";
    case binary_op::gt: return ">";
    case binary_op::le: return "<=";
    case binary_op::ge: return ">=";
    case binary_op::add: return "+";
    case binary_op::sub: return "-";
    case binary_op::mul: return "*";
    case binary_op::div: return "/";
    case binary_op::mod: return "%";
  }
  return "?";
}

bool is_plain_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'; };
  if (!start(s[0])) return false;
  for (char c : s) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return !is_keyword(s);
}

std::string name_text(std::string_view s) {
  if (is_plain_identifier(s)) return std::string(s);
  return "[[" + std::string(s) + "]]";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

void print_number(std::string& out, const nlohmann::json& v) {
  if (v.is_number_integer()) {
    out += std::to_string(v.get<std::int64_t>());
  } else if (v.is_number_unsigned()) {
    out += std::to_string(v.get<std::uint64_t>());
  } else if (const double d = v.get<double>(); d == 0 && std::signbit(d)) {
    // to_chars writes "-0", which reads back as the integer 0: keep the float's sign.
    out += "-0.0";
  } else {
    std::array<char, 64> buf{};
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    out.append(buf.data(), r.ptr);
  }
}

void print_string(std::string& out, const std::string& s) {
  out += '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

void print_constant(std::string& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::discarded: out += "undefined"; break;
    case nlohmann::json::value_t::null: out += "null"; break;
    case nlohmann::json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case nlohmann::json::value_t::string: print_string(out, v.get_ref<const std::string&>()); break;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        print_constant(out, item);
      }
      out += ']';
      break;
    }
    default: print_number(out, v); break;
  }
}

void print(std::string& out, const expr& e);

void print_child(std::string& out, const expr& child, int min_precedence) {
  if (precedence_of(child) < min_precedence) {
    out += '(';
    print(out, child);
    out += ')';
  } else {
    print(out, child);
  }
}

void print(std::string& out, const expr& e) {
  switch (e.kind) {
    case expr_kind::constant: print_constant(out, e.value); break;
    case expr_kind::path:
      for (std::size_t i = 0; i < e.path.size(); ++i) {
        if (i) out += '.';
        out += name_text(e.path[i]);
      }
      break;
    case expr_kind::unary:
      if (e.unary == unary_op::not_) {
        out += "NOT ";
        print_child(out, *e.children[0], p_not);
      } else {
        out += '-';
        print_child(out, *e.children[0], p_unary + 1);
      }
      break;
    case expr_kind::binary: {
      const int p = precedence_of(e);
      print_child(out, *e.children[0], p);
      out += ' ';
      out += op_text(e.binary);
      out += ' ';
      print_child(out, *e.children[1], p + 1);  // left-associative: an equal right operand needs parentheses
      break;
    }
    case expr_kind::in:
      print_child(out, *e.children[0], p_add);
      out += e.negated ? " NIN " : " IN ";
      print(out, *e.children[1]);
      break;
    case expr_kind::call: {
      out += upper(e.function);
      out += '(';
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += ", ";
        print(out, *e.children[i]);
      }
      out += ')';
      break;
    }
  }
}

}  // namespace

bool is_keyword(std::string_view word) {
  static constexpr std::array<std::string_view, 16> keywords = {
      "SELECT", "TOP", "FROM", "WHERE", "GROUP", "BY", "AS", "AND",
      "OR", "NOT", "IN", "NIN", "TRUE", "FALSE", "NULL", "UNDEFINED"};
  for (std::string_view k : keywords) {
    if (k.size() != word.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      char c = word[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      same = c == k[i];
    }
    if (same) return true;
  }
  return false;
}

std::string_view to_text(collection c) {
  switch (c) {
    case collection::devices: return "devices";
    case collection::modules: return "devices.modules";
    case collection::jobs: return "devices.jobs";
  }
  return "devices";
}

std::string to_text(const expr& e) {
  std::string out;
  print(out, e);
  return out;
}

std::string to_text(const query& q) {
  std::string out = "SELECT ";
  if (q.top) out += "TOP " + std::to_string(*q.top) + " ";
  if (q.select_all) {
    out += '*';
  } else {
    for (std::size_t i = 0; i < q.projections.size(); ++i) {
      if (i) out += ", ";
      print(out, *q.projections[i].value);
      if (q.projections[i].alias) out += " AS " + name_text(*q.projections[i].alias);
    }
  }
  out += " FROM ";
  out += to_text(q.from);
  if (q.where) {
    out += " WHERE ";
    print(out, *q.where);
  }
  if (!q.group_by.empty()) {
    out += " GROUP BY ";
    for (std::size_t i = 0; i < q.group_by.size(); ++i) {
      if (i) out += ", ";
      print(out, *q.group_by[i]);
    }
  }
  return out;
}

expr_ptr clone(const expr& e) {
  auto c = std::make_unique<expr>();
  c->kind = e.kind;
  c->offset = e.offset;
  c->value = e.value;
  c->path = e.path;
  c->unary = e.unary;
  c->binary = e.binary;
  c->negated = e.negated;
  c->function = e.function;
  for (const auto& child : e.children) c->children.push_back(clone(*child));
  return c;
}

}  // namespace mockhub::core::query::ast
