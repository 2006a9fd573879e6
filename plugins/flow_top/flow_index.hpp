// SPDX-License-Identifier: MIT
// FlowIndex: flow key -> state slot, for FlowCollector.
//
// Open addressing with linear probing over 8-byte buckets (hash, slot); the
// keys themselves stay in the caller's state array and are compared through
// `key_of(slot)`. With a million flows every lookup is a cache miss, so the
// layout is flat (no node per entry, unlike std::unordered_map) and the
// caller can prefetch a bucket several entries ahead of its lookup.
// Load factor at most 1/2. Not thread safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "flow_top.h"

namespace netmon::flow_top {

class FlowIndex {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  static std::uint64_t hash(const flow_top_key& k) {
    std::uint64_t w[5];
    std::uint32_t last;
    static_assert(sizeof w + sizeof last == sizeof(flow_top_key));
    std::memcpy(w, &k, sizeof w);
    std::memcpy(&last, reinterpret_cast<const unsigned char*>(&k) + sizeof w, sizeof last);
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ last;
    for (const std::uint64_t x : w) h = (h ^ x) * 0xff51afd7ed558ccdull, h ^= h >> 29;
    // murmur3's finalizer: every bit of the key reaches the low bits we index with.
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
  }

  [[nodiscard]] std::size_t size() const { return size_; }

  // Room for n entries in all, so no lookup pointer or prefetch goes stale
  // while a batch of inserts runs.
  void reserve(std::size_t n) {
    std::size_t cap = buckets_.empty() ? 1024 : buckets_.size();
    while (cap < 2 * n) cap *= 2;
    if (cap != buckets_.size()) rehash(cap);
  }

  void prefetch(std::uint64_t h) const {
    if (!buckets_.empty()) __builtin_prefetch(&buckets_[h & mask_]);
  }
  // The slot in h's home bucket (the likely answer of find), or kNone.
  [[nodiscard]] std::uint32_t home_slot(std::uint64_t h) const {
    return buckets_.empty() ? kNone : buckets_[h & mask_].slot;
  }

  template <class KeyOf>
  [[nodiscard]] std::uint32_t find(const flow_top_key& k, std::uint64_t h, const KeyOf& key_of) const {
    if (buckets_.empty()) return kNone;
    const auto h32 = static_cast<std::uint32_t>(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Bucket& b = buckets_[i];
      if (b.slot == kNone) return kNone;
      if (b.hash == h32 && std::memcmp(&key_of(b.slot), &k, sizeof k) == 0) return b.slot;
    }
  }

  // The key must not be present.
  void insert(std::uint64_t h, std::uint32_t slot) {
    if (2 * (size_ + 1) > buckets_.size()) reserve(size_ + 1);
    place({static_cast<std::uint32_t>(h), slot});
    ++size_;
  }

  template <class KeyOf>
  void erase(const flow_top_key& k, std::uint64_t h, const KeyOf& key_of) {
    if (buckets_.empty()) return;
    const auto h32 = static_cast<std::uint32_t>(h);
    std::size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const Bucket& b = buckets_[i];
      if (b.slot == kNone) return;
      if (b.hash == h32 && std::memcmp(&key_of(b.slot), &k, sizeof k) == 0) break;
    }
    // Backward-shift deletion: pull later members of the probe run into the
    // hole, so lookups never need tombstones.
    buckets_[i].slot = kNone;
    --size_;
    for (std::size_t j = (i + 1) & mask_; buckets_[j].slot != kNone; j = (j + 1) & mask_) {
      const std::size_t home = buckets_[j].hash & mask_;
      // Stay if home lies cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      buckets_[i] = buckets_[j];
      buckets_[j].slot = kNone;
      i = j;
    }
  }

 private:
  struct Bucket {
    std::uint32_t hash;  // the key hash's low 32 bits (tables stay below 2^32 buckets)
    std::uint32_t slot;  // kNone: empty
  };

  void place(Bucket nb) {
    std::size_t i = nb.hash & mask_;
    while (buckets_[i].slot != kNone) i = (i + 1) & mask_;
    buckets_[i] = nb;
  }

  void rehash(std::size_t cap) {
    std::vector<Bucket> old(cap, Bucket{0, kNone});
    old.swap(buckets_);
    mask_ = cap - 1;
    for (const Bucket& b : old)
      if (b.slot != kNone) place(b);
  }

  std::vector<Bucket> buckets_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace netmon::flow_top
