#include "expression_program.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "lexer.hpp"

#include "mock_hub/core/ascii.hpp"

namespace mockhub::core::query {
namespace {

bool is_routing_only(std::string_view name) {
  // Supported in message-routing conditions, refused in twin and job queries [Doc query
  // language "In routes conditions"; Obs azure-docs#110329 for STARTS_WITH].
  static constexpr std::array<std::string_view, 23> routing = {
      "ABS", "EXP", "POWER", "SQUARE", "CEILING", "FLOOR", "SIGN", "SQRT",
      "AS_NUMBER", "IS_ARRAY", "IS_BOOL", "IS_NULL", "IS_NUMBER", "IS_OBJECT", "IS_PRIMITIVE", "IS_STRING",
      "CONCAT", "LENGTH", "LOWER", "UPPER", "SUBSTRING", "INDEX_OF", "CONTAINS"};
  for (auto r : routing) {
    if (r == name) return true;
  }
  return name == "STARTS_WITH" || name == "ENDS_WITH";
}

bool is_aggregate(std::string_view name) {
  return name == "COUNT" || name == "AVG" || name == "SUM" || name == "MIN" || name == "MAX";
}

value boolean(bool b) {
  value v;
  v.type = value::kind::boolean;
  v.boolean = b;
  return v;
}

value number(double d) {
  value v;
  if (!std::isfinite(d)) return v;  // overflow, 0/0: undefined, as JSON has no such numbers
  v.type = value::kind::number;
  v.number = d;
  return v;
}

}  // namespace

value value::of(const nlohmann::json& j) {
  value v;
  switch (j.type()) {
    case nlohmann::json::value_t::null: v.type = kind::null; break;
    case nlohmann::json::value_t::boolean:
      v.type = kind::boolean;
      v.boolean = j.get<bool>();
      break;
    case nlohmann::json::value_t::number_integer:
      v.type = kind::number;
      v.number = static_cast<double>(j.get<std::int64_t>());
      break;
    case nlohmann::json::value_t::number_unsigned:
      v.type = kind::number;
      v.number = static_cast<double>(j.get<std::uint64_t>());
      break;
    case nlohmann::json::value_t::number_float:
      v.type = kind::number;
      v.number = j.get<double>();
      break;
    case nlohmann::json::value_t::string:
      v.type = kind::string;
      v.string = j.get_ref<const std::string&>();
      break;
    case nlohmann::json::value_t::array:
      v.type = kind::array;
      v.json = &j;
      break;
    case nlohmann::json::value_t::object:
      v.type = kind::object;
      v.json = &j;
      break;
    default: break;  // discarded, binary: undefined
  }
  return v;
}

value value::of(packed_view j) {
  value v;
  if (!j.valid()) return v;
  switch (j.type()) {
    case packed_view::kind::null: v.type = kind::null; break;
    case packed_view::kind::boolean_false:
    case packed_view::kind::boolean_true:
      v.type = kind::boolean;
      v.boolean = j.as_bool();
      break;
    case packed_view::kind::integer:
    case packed_view::kind::unsigned_integer:
    case packed_view::kind::floating:
      v.type = kind::number;
      v.number = j.as_number();
      break;
    case packed_view::kind::string:
      v.type = kind::string;
      v.string = j.as_string();
      break;
    case packed_view::kind::array:
      v.type = kind::array;
      v.node = j;
      break;
    case packed_view::kind::object:
      v.type = kind::object;
      v.node = j;
      break;
  }
  return v;
}

ordering compare(const value& a, const value& b, bool equality_only) {
  if (a.type != b.type) return ordering::incomparable;
  switch (a.type) {
    case value::kind::null: return equality_only ? ordering::equal : ordering::incomparable;
    case value::kind::boolean:
      if (a.boolean == b.boolean) return ordering::equal;
      return a.boolean ? ordering::greater : ordering::less;
    case value::kind::number:
      if (a.number < b.number) return ordering::less;
      if (a.number > b.number) return ordering::greater;
      return ordering::equal;
    case value::kind::string: {
      const int c = a.string.compare(b.string);  // ordinal: UTF-8 bytes as unsigned, i.e. code point order
      return c < 0 ? ordering::less : c > 0 ? ordering::greater : ordering::equal;
    }
    default: return ordering::incomparable;  // undefined, arrays and objects are not compared
  }
}

expression_program::expression_program(const ast::expr& e) { root_ = compile(e); }

std::uint32_t expression_program::compile(const ast::expr& e) {
  node n;
  switch (e.kind) {
    case ast::expr_kind::constant:
      if (e.value.is_discarded()) {
        n.code = op::undefined_constant;
      } else {
        constants_.push_back(e.value);
        n.code = op::constant;
        n.constant = &constants_.back();
      }
      break;
    case ast::expr_kind::path:
      n.code = op::path;
      n.a = slot_of(e.path);
      n.b = static_cast<std::uint32_t>(paths_.size());
      paths_.push_back(e.path);
      break;
    case ast::expr_kind::unary:
      n.code = e.unary == ast::unary_op::not_ ? op::not_ : op::negate;
      n.a = compile(*e.children[0]);
      break;
    case ast::expr_kind::binary:
      switch (e.binary) {
        case ast::binary_op::or_: n.code = op::or_; break;
        case ast::binary_op::and_: n.code = op::and_; break;
        case ast::binary_op::eq: n.code = op::eq; break;
        case ast::binary_op::ne: n.code = op::ne; break;
        case ast::binary_op::lt: n.code = op::lt; break;
        case ast::binary_op::gt: n.code = op::gt; break;
        case ast::binary_op::le: n.code = op::le; break;
        case ast::binary_op::ge: n.code = op::ge; break;
        case ast::binary_op::add: n.code = op::add; break;
        case ast::binary_op::sub: n.code = op::sub; break;
        case ast::binary_op::mul: n.code = op::mul; break;
        case ast::binary_op::div: n.code = op::div; break;
        case ast::binary_op::mod: n.code = op::mod; break;
      }
      n.a = compile(*e.children[0]);
      n.b = compile(*e.children[1]);
      break;
    case ast::expr_kind::in:
      n.code = e.negated ? op::nin : op::in;
      n.a = compile(*e.children[0]);
      constants_.push_back(e.children[1]->value);
      n.constant = &constants_.back();
      break;
    case ast::expr_kind::call: {
      const std::string name = ascii_upper(e.function);
      std::size_t arity = 0;
      if (name == "IS_DEFINED") {
        n.code = op::is_defined;
        arity = 1;
      } else if (name == "STARTSWITH") {
        n.code = op::starts_with;
        arity = 2;
      } else if (name == "ENDSWITH") {
        n.code = op::ends_with;
        arity = 2;
      } else if (is_aggregate(name)) {
        throw_invalid_query("The aggregate " + name + "() is only allowed in the SELECT clause.");
      } else if (is_routing_only(name)) {
        throw_invalid_query("The function " + e.function +
                            " is not supported in twin and job queries (only in message routing); "
                            "twin queries support IS_DEFINED, STARTSWITH and ENDSWITH.");
      } else {
        throw_invalid_query("Unknown function '" + e.function +
                            "'; twin and job queries support IS_DEFINED, STARTSWITH and ENDSWITH.");
      }
      if (e.children.size() != arity) {
        throw_invalid_query("The function " + name + " takes " + std::to_string(arity) + " argument" +
                            (arity == 1 ? "" : "s") + ", not " + std::to_string(e.children.size()) + ".");
      }
      n.a = compile(*e.children[0]);
      if (arity == 2) n.b = compile(*e.children[1]);
      break;
    }
  }
  nodes_.push_back(n);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

packed_view find_path(packed_view doc, const std::vector<std::string>& path) {
  packed_view cur = doc;
  for (const std::string& segment : path) {
    cur = cur.find(segment);  // invalid when cur is not an object or lacks the member
    if (!cur.valid()) return cur;
  }
  return cur;
}

std::uint32_t expression_program::slot_of(const std::vector<std::string>& path) {
  std::uint32_t slot = 0;
  for (const std::string& segment : path) {
    auto it = std::find_if(steps_.begin(), steps_.end(),
                           [&](const path_step& s) { return s.parent == slot && s.segment == segment; });
    if (it == steps_.end()) {
      steps_.push_back({slot, slot_count_++, segment});
      it = steps_.end() - 1;
    }
    slot = it->slot;
  }
  return slot;
}

value expression_program::evaluate(packed_view doc) const { return eval(root_, doc, nullptr); }

void expression_program::match_batch(const packed_view* docs, std::size_t count, bool* matched,
                                     std::vector<packed_view>& scratch) const {
  const std::size_t slots = slot_count_;
  if (scratch.size() < slots) scratch.resize(slots);
  packed_view* row = scratch.data();
  for (std::size_t d = 0; d < count; ++d) {
    // Each distinct path prefix is looked up once per document (`properties.reported` once for
    // every reported path), each from its parent's node.
    row[0] = docs[d];
    for (const path_step& s : steps_) row[s.slot] = row[s.parent].find(s.segment);
    matched[d] = eval(root_, docs[d], row).is_true();
  }
}

value expression_program::eval(std::uint32_t index, packed_view doc, const packed_view* slots) const {
  const node& n = nodes_[index];
  switch (n.code) {
    case op::constant: return value::of(*n.constant);
    case op::undefined_constant: return {};
    case op::path: {
      return value::of(slots ? slots[n.a] : find_path(doc, paths_[n.b]));
    }
    case op::not_: {
      const value v = eval(n.a, doc, slots);
      if (v.type != value::kind::boolean) return {};
      return boolean(!v.boolean);
    }
    case op::negate: {
      const value v = eval(n.a, doc, slots);
      if (v.type != value::kind::number) return {};
      return number(-v.number);
    }
    case op::and_: {
      // Three-valued: false wins, then undefined; only true AND true is true.
      const value l = eval(n.a, doc, slots);
      if (l.type == value::kind::boolean && !l.boolean) return boolean(false);
      const value r = eval(n.b, doc, slots);
      if (r.type == value::kind::boolean && !r.boolean) return boolean(false);
      if (l.is_true() && r.is_true()) return boolean(true);
      return {};
    }
    case op::or_: {
      // Three-valued: true wins, then undefined; only false OR false is false.
      const value l = eval(n.a, doc, slots);
      if (l.is_true()) return boolean(true);
      const value r = eval(n.b, doc, slots);
      if (r.is_true()) return boolean(true);
      if (l.type == value::kind::boolean && r.type == value::kind::boolean) return boolean(false);
      return {};
    }
    case op::eq:
    case op::ne: {
      const ordering o = compare(eval(n.a, doc, slots), eval(n.b, doc, slots), true);
      if (o == ordering::incomparable) return {};
      return boolean((o == ordering::equal) == (n.code == op::eq));
    }
    case op::lt:
    case op::gt:
    case op::le:
    case op::ge: {
      const ordering o = compare(eval(n.a, doc, slots), eval(n.b, doc, slots), false);
      switch (o) {
        case ordering::incomparable: return {};
        case ordering::less: return boolean(n.code == op::lt || n.code == op::le);
        case ordering::greater: return boolean(n.code == op::gt || n.code == op::ge);
        case ordering::equal: return boolean(n.code == op::le || n.code == op::ge);
      }
      return {};
    }
    case op::add:
    case op::sub:
    case op::mul:
    case op::div:
    case op::mod: {
      const value l = eval(n.a, doc, slots);
      const value r = eval(n.b, doc, slots);
      if (l.type != value::kind::number || r.type != value::kind::number) return {};
      switch (n.code) {
        case op::add: return number(l.number + r.number);
        case op::sub: return number(l.number - r.number);
        case op::mul: return number(l.number * r.number);
        case op::div: return r.number == 0 ? value{} : number(l.number / r.number);
        default: return r.number == 0 ? value{} : number(std::fmod(l.number, r.number));
      }
    }
    case op::in:
    case op::nin: {
      // x IN [a, b] is (x = a) OR (x = b); NIN is its negation.
      const value x = eval(n.a, doc, slots);
      bool any_undefined = false;
      for (const auto& item : *n.constant) {
        const ordering o = compare(x, value::of(item), true);
        if (o == ordering::equal) return boolean(n.code == op::in);
        if (o == ordering::incomparable) any_undefined = true;
      }
      if (any_undefined || x.type == value::kind::undefined) return {};
      return boolean(n.code == op::nin);
    }
    case op::is_defined: return boolean(eval(n.a, doc, slots).type != value::kind::undefined);
    case op::starts_with:
    case op::ends_with: {
      const value s = eval(n.a, doc, slots);
      const value affix = eval(n.b, doc, slots);
      if (s.type != value::kind::string || affix.type != value::kind::string) return {};
      return boolean(n.code == op::starts_with ? s.string.starts_with(affix.string)
                                               : s.string.ends_with(affix.string));
    }
  }
  return {};
}

}  // namespace mockhub::core::query
