// Checks a JSON value against a definition of the 2021-04-12 swagger file: every member must be
// a property of the definition (recursively through $ref, arrays and nested objects) and have
// its JSON type (string with its enum and date-time format, integer, boolean, object, array).
// Members may be null, as the hub writes absent values. `type: object` with neither properties
// nor additionalProperties (payloads) accepts any JSON. `extensions` names members the real
// hub returns beyond the file, per definition (e.g. Twin.modelId).
#pragma once

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/time_format.hpp"

namespace mockhub::test {

class swagger_schema {
 public:
  static const swagger_schema& load() {
    static const swagger_schema s(std::string(MOCKHUB_SHARED_DIR) + "/reference/iothub-service-2021-04-12.swagger.json");
    return s;
  }

  const nlohmann::json& document() const { return doc_; }

  /// The problems found (empty: conforms), each naming the JSON path.
  std::vector<std::string> check(const nlohmann::json& value, const std::string& definition,
                                 const std::map<std::string, std::set<std::string>>& extensions = {
                                     {"Twin", {"modelId"}}}) const {
    std::vector<std::string> problems;
    check_value(value, {{"$ref", "#/definitions/" + definition}}, "$", extensions, problems, false);
    return problems;
  }

 private:
  explicit swagger_schema(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    doc_ = nlohmann::json::parse(in);
  }

  void check_value(const nlohmann::json& v, const nlohmann::json& schema, const std::string& where,
                   const std::map<std::string, std::set<std::string>>& extensions, std::vector<std::string>& problems,
                   bool nullable) const {
    if (v.is_null()) {
      if (!nullable) problems.push_back(where + ": null");
      return;
    }
    std::string definition;
    const nlohmann::json* s = &schema;
    if (s->contains("$ref")) {
      const std::string ref = (*s)["$ref"];
      definition = ref.substr(ref.rfind('/') + 1);
      s = &doc_["definitions"][definition];
    }
    const std::string type = s->value("type", "object");
    if (type == "string") {
      if (!v.is_string()) return problems.push_back(where + ": expected a string, got " + v.dump());
      if (s->contains("enum")) {
        bool found = false;
        for (const auto& e : (*s)["enum"]) found = found || e == v;
        if (!found) problems.push_back(where + ": " + v.dump() + " is not in the enum");
      }
      // "0001-01-01T00:00:00Z" (core::never_time) is a valid date-time that a time_point cannot hold.
      if (s->value("format", "") == "date-time" && v != core::never_time && !core::parse_time(v.get<std::string>()))
        problems.push_back(where + ": " + v.dump() + " is not a date-time");
    } else if (type == "integer") {
      if (!v.is_number_integer()) problems.push_back(where + ": expected an integer, got " + v.dump());
    } else if (type == "boolean") {
      if (!v.is_boolean()) problems.push_back(where + ": expected a boolean, got " + v.dump());
    } else if (type == "array") {
      if (!v.is_array()) return problems.push_back(where + ": expected an array");
      for (std::size_t i = 0; i < v.size(); ++i)
        check_value(v[i], (*s)["items"], where + "[" + std::to_string(i) + "]", extensions, problems, false);
    } else if (type == "object") {
      if (!s->contains("properties")) {
        if (s->contains("additionalProperties") && !v.is_object()) problems.push_back(where + ": expected an object");
        return;  // a free-form object or any JSON
      }
      if (!v.is_object()) return problems.push_back(where + ": expected an object, got " + v.dump());
      const auto& properties = (*s)["properties"];
      const auto extra = extensions.find(definition);
      for (const auto& [name, member] : v.items()) {
        if (properties.contains(name)) {
          check_value(member, properties[name], where + "." + name, extensions, problems, true);
        } else if (extra == extensions.end() || !extra->second.contains(name)) {
          problems.push_back(where + "." + name + ": not a property of " + (definition.empty() ? "the object" : definition));
        }
      }
    } else {
      problems.push_back(where + ": unknown schema type " + type);
    }
  }

  nlohmann::json doc_;
};

}  // namespace mockhub::test
