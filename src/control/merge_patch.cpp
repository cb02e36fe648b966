#include "control/merge_patch.hpp"

namespace onair::control {
namespace {

bool contains_null(const nlohmann::json& value) {
  if (value.is_null()) return true;
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (contains_null(member)) return true;
    }
  }
  return false;  // nulls inside arrays are fine: arrays are replaced whole
}

}  // namespace

std::optional<nlohmann::json> merge_diff(const nlohmann::json& from, const nlohmann::json& to) {
  if (!to.is_object()) return std::nullopt;
  nlohmann::json patch = nlohmann::json::object();
  if (from.is_object()) {
    for (const auto& [key, value] : from.items()) {
      if (!to.contains(key)) patch[key] = nullptr;
    }
  }
  for (const auto& [key, value] : to.items()) {
    const auto old = from.is_object() ? from.find(key) : from.end();
    if (from.is_object() && old != from.end() && *old == value) continue;
    if (value.is_object() && from.is_object() && old != from.end() && old->is_object()) {
      auto nested = merge_diff(*old, value);
      if (!nested) return std::nullopt;
      patch[key] = std::move(*nested);
    } else {
      if (contains_null(value)) return std::nullopt;
      patch[key] = value;
    }
  }
  return patch;
}

}  // namespace onair::control
