// SPDX-License-Identifier: MIT
// IPFIX (RFC 7011) messages from flow records: the two templates, data sets,
// the message header with its per-domain sequence number, packing into
// messages no larger than the MTU, and when templates are due. Pure: no I/O;
// time comes in as an argument.
#pragma once

#include "record.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace netmon::ipfix {

inline constexpr std::uint16_t kVersion = 10;
inline constexpr std::uint16_t kTemplateSetId = 2;
inline constexpr std::uint16_t kTemplateIpv4 = 256;
inline constexpr std::uint16_t kTemplateIpv6 = 257;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kSetHeaderSize = 4;
inline constexpr std::size_t kIpv4RecordSize = 57;
inline constexpr std::size_t kIpv6RecordSize = 81;
inline constexpr std::size_t kFieldsPerTemplate = 14;
// One template set holding both templates: set header, then per template a
// 4-byte record header and 4 bytes per field.
inline constexpr std::size_t kTemplateSetSize = kSetHeaderSize + 2 * (4 + 4 * kFieldsPerTemplate);  // 124
// The smallest MTU: a message with the template set, which is larger than
// one with a single IPv6 data record (16 + 4 + 81 = 101).
inline constexpr std::size_t kMinMtu = kHeaderSize + kTemplateSetSize;  // 140
inline constexpr std::size_t kMaxMtu = 65535;                           // the header's length field

inline constexpr std::size_t record_size(Family f) { return f == Family::ipv4 ? kIpv4RecordSize : kIpv6RecordSize; }

// Messages one encode() call made, back to back in `bytes`.
struct Messages {
  struct Span {
    std::size_t offset = 0;
    std::size_t size = 0;
    std::uint32_t records = 0;  // data records in this message
    bool templates = false;     // it starts with the template set
  };
  std::vector<std::uint8_t> bytes;
  std::vector<Span> list;

  void clear() {
    bytes.clear();
    list.clear();
  }
  [[nodiscard]] std::span<const std::uint8_t> message(std::size_t i) const {
    return {bytes.data() + list[i].offset, list[i].size};
  }
};

class Encoder {
 public:
  // mtu within [kMinMtu, kMaxMtu]; throws std::invalid_argument otherwise.
  Encoder(std::uint32_t domain, std::size_t mtu);

  // Appends to `out` the fewest messages of at most mtu bytes that carry
  // `records`: the IPv4 records (template 256), then the IPv6 ones (257), each
  // in the order given, one data set per template in each message. With
  // `templates`, the first message starts with the template set (a message of
  // templates alone when there are no records). export_time_s goes in every
  // header; each header's sequence number is the count of data records in
  // the messages this encoder made before it (modulo 2^32).
  void encode(std::span<const FlowRecord> records, std::uint32_t export_time_s, bool templates, Messages& out);

  [[nodiscard]] std::uint32_t sequence() const { return sequence_; }
  [[nodiscard]] std::uint32_t domain() const { return domain_; }
  [[nodiscard]] std::size_t mtu() const { return mtu_; }

 private:
  std::uint32_t domain_;
  std::size_t mtu_;
  std::uint32_t sequence_ = 0;
};

// The template set alone (set header and both templates), as encode() writes it.
std::vector<std::uint8_t> template_set();

// When templates go out: on a new connection (TCP) or the first message, and
// over UDP again every `refresh` (RFC 7011 §8.4); refresh 0: never again.
class TemplateSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TemplateSchedule(std::chrono::nanoseconds refresh) : refresh_(refresh) {}

  [[nodiscard]] bool due(Clock::time_point now) const {
    if (!last_) return true;
    return refresh_.count() > 0 && now - *last_ >= refresh_;
  }
  void sent(Clock::time_point now) { last_ = now; }
  void reset() { last_.reset(); }

 private:
  std::chrono::nanoseconds refresh_;
  std::optional<Clock::time_point> last_;
};

}  // namespace netmon::ipfix
