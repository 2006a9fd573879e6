// SPDX-License-Identifier: MIT
// An enum's values and the names users see and type, written once as a table:
//
//   enum class Colour { red, green };
//   inline constexpr auto kColourNames = netmon::enum_names<Colour>({
//       {Colour::red, "red"},
//       {Colour::green, "green"},
//   });
//   kColourNames.name_of(Colour::green);  // "green"
//   kColourNames.parse("red");            // Colour::red; std::nullopt for a name not in the table
//   kColourNames.choices();               // "red or green", for messages
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace netmon {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

template <typename E, std::size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(const EnumName<E> (&entries)[N]) {
    for (std::size_t i = 0; i < N; ++i) entries_[i] = entries[i];
  }

  // The value's name; `unknown` for a value not in the table.
  [[nodiscard]] constexpr const char* name_of(E value, const char* unknown = "?") const {
    for (const auto& e : entries_)
      if (e.value == value) return e.name;
    return unknown;
  }

  // The value of a name, exactly as written in the table.
  [[nodiscard]] constexpr std::optional<E> parse(std::string_view name) const {
    for (const auto& e : entries_)
      if (name == e.name) return e.value;
    return std::nullopt;
  }

  // The names in the table's order, as a message lists them: "a, b or c".
  [[nodiscard]] std::string choices() const {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) out += i + 1 == N ? " or " : ", ";
      out += entries_[i].name;
    }
    return out;
  }

  [[nodiscard]] constexpr const std::array<EnumName<E>, N>& entries() const { return entries_; }

 private:
  std::array<EnumName<E>, N> entries_{};
};

// Deduces the table's size: enum_names<E>({{E::a, "a"}, {E::b, "b"}}).
template <typename E, std::size_t N>
constexpr EnumNames<E, N> enum_names(const EnumName<E> (&entries)[N]) {
  return EnumNames<E, N>(entries);
}

}  // namespace netmon
