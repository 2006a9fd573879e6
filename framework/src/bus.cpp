// SPDX-License-Identifier: MIT
#include "bus.hpp"

#include <exception>

namespace netmon::host {

SinkRunner::SinkRunner(std::unique_ptr<SinkPort> sink, std::size_t capacity, SinkEndedFn on_end)
    : sink_(std::move(sink)), name_(sink_->name()), capacity_(capacity ? capacity : 1), on_end_(std::move(on_end)) {
  thread_ = std::thread([this] { run(); });
}

SinkRunner::~SinkRunner() { finish(); }

bool SinkRunner::offer(std::shared_ptr<const Batch> batch) {
  {
    std::lock_guard lock(mu_);
    if (state_.load() != SinkState::running || finishing_) return false;  // ended: not a drop
    if (queue_.size() >= capacity_) {
      dropped_.fetch_add(1);
      return false;
    }
    queue_.push_back(std::move(batch));
  }
  cv_.notify_one();
  return true;
}

std::size_t SinkRunner::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void SinkRunner::finish() {
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SinkRunner::run() {
  std::string error;
  SinkState end = SinkState::closed;
  for (;;) {
    std::shared_ptr<const Batch> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return finishing_ || !queue_.empty(); });
      if (queue_.empty()) break;  // finishing and drained
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    int rc = 0;
    try {
      rc = sink_->write(*batch);
    } catch (const std::exception& e) {
      error = e.what();
      end = SinkState::failed;
      break;
    }
    if (rc == 0) delivered_.fetch_add(1);
    if (rc != 0) {  // NETMON_CLOSED: the reader went away
      end = SinkState::closed;
      error.clear();
      {
        std::lock_guard lock(mu_);
        dropped_.fetch_add(queue_.size());
        queue_.clear();
      }
      state_.store(SinkState::closed);
      if (on_end_) on_end_(name_, SinkState::closed, {});
      try {
        sink_->close();
      } catch (const std::exception&) {
        // The output is already gone; nothing left to report.
      }
      return;
    }
  }
  if (end == SinkState::failed) {
    {
      std::lock_guard lock(mu_);
      dropped_.fetch_add(queue_.size());
      queue_.clear();
    }
    state_.store(SinkState::failed);
    try {
      sink_->close();
    } catch (const std::exception&) {
      // Already failed; the first error is the one worth reporting.
    }
    if (on_end_) on_end_(name_, SinkState::failed, error);
    return;
  }
  try {
    sink_->close();
  } catch (const std::exception& e) {
    state_.store(SinkState::failed);
    if (on_end_) on_end_(name_, SinkState::failed, e.what());
    return;
  }
  state_.store(SinkState::closed);
}

void SampleBus::add_sink(std::unique_ptr<SinkPort> sink, SinkEndedFn on_end) {
  sinks_.push_back(std::make_unique<SinkRunner>(std::move(sink), capacity_, std::move(on_end)));
}

std::size_t SampleBus::publish(std::shared_ptr<const Batch> batch) {
  std::size_t accepted = 0;
  for (auto& s : sinks_)
    if (s->offer(batch)) ++accepted;
  return accepted;
}

void SampleBus::finish() {
  for (auto& s : sinks_) s->finish();
}

std::size_t SampleBus::running() const {
  std::size_t n = 0;
  for (const auto& s : sinks_)
    if (s->state() == SinkState::running) ++n;
  return n;
}

}  // namespace netmon::host
