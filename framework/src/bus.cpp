// SPDX-License-Identifier: MIT
#include "bus.hpp"

#include <algorithm>
#include <exception>
#include <iterator>

namespace {
std::atomic<bool> g_sinks_left_running{false};
}

namespace netmon::host {

namespace {
std::size_t count_events(const Batch& b) {
  std::size_t n = 0;
  for (const auto& s : b.samples) n += s.is_event() ? 1 : 0;
  return n;
}
}  // namespace

SinkRunner::SinkRunner(std::unique_ptr<SinkPort> sink, std::size_t capacity, SinkEndedFn on_end,
                       std::size_t event_bound)
    : sink_(std::move(sink)),
      name_(sink_->name()),
      capacity_(capacity ? capacity : 1),
      on_end_(std::move(on_end)),
      event_bound_(event_bound) {}

SinkRunner::~SinkRunner() { finish(); }

void SinkRunner::start() {
  if (!thread_.joinable() && !done_)
    thread_ = std::thread([this] {
      run();
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
    });
}

bool SinkRunner::offer(std::shared_ptr<const Batch> batch) {
  {
    std::lock_guard lock(mu_);
    if (state_.load() != SinkState::running || finishing_) return false;  // ended: not a drop
    Entry e;
    e.events = count_events(*batch);
    e.batch = std::move(batch);
    queued_events_ += e.events;
    queue_.push_back(std::move(e));
    // Full: the oldest queued batch makes way. Counters are cumulative, so
    // the newest batch carries the most; a slow sink catches up on it (and
    // the last batch of a run, the final totals, is never the one lost).
    // Its events are not superseded by anything: they go on, in front of the
    // next batch's, until there are more than the bound.
    if (queue_.size() > capacity_) {
      drop_front();
      dropped_.fetch_add(1);
    }
    if (queued_events_ > event_bound_) drop_oldest_events(queued_events_ - event_bound_);
  }
  cv_.notify_one();
  return true;
}

void SinkRunner::drop_front() {
  Entry old = std::move(queue_.front());
  queue_.pop_front();
  Entry& next = queue_.front();
  std::deque<Sample> moved = std::move(old.carried);
  std::size_t seen = 0;
  for (const auto& s : old.batch->samples) {
    if (!s.is_event() || seen++ < old.skip) continue;
    Sample c = s;
    if (c.timestamp_ns == 0) c.timestamp_ns = old.batch->timestamp_ns;  // its own interval's time
    moved.push_back(std::move(c));
  }
  for (auto& s : next.carried) moved.push_back(std::move(s));
  next.carried = std::move(moved);
  next.events += old.events;
}

void SinkRunner::drop_oldest_events(std::size_t n) {
  queued_events_ -= n;
  lost_events_.fetch_add(n);
  for (auto& e : queue_) {
    if (n == 0) break;
    const std::size_t from_carried = std::min(n, e.carried.size());
    e.carried.erase(e.carried.begin(), e.carried.begin() + static_cast<std::ptrdiff_t>(from_carried));
    const std::size_t from_own = std::min(n - from_carried, e.events - from_carried);
    e.skip += from_own;
    e.events -= from_carried + from_own;
    n -= from_carried + from_own;
  }
}

std::shared_ptr<const Batch> SinkRunner::materialize(Entry& e) {
  if (e.carried.empty() && e.skip == 0) return std::move(e.batch);
  auto b = std::make_shared<Batch>();
  b->timestamp_ns = e.batch->timestamp_ns;
  b->interval_ns = e.batch->interval_ns;
  b->sequence = e.batch->sequence;
  b->samples.reserve(e.carried.size() + e.batch->samples.size());
  std::move(e.carried.begin(), e.carried.end(), std::back_inserter(b->samples));
  std::size_t seen = 0;
  for (const auto& s : e.batch->samples)
    if (!s.is_event() || seen++ >= e.skip) b->samples.push_back(s);
  return b;
}

std::size_t SinkRunner::queued_events() const {
  std::lock_guard lock(mu_);
  return queued_events_;
}

bool SinkRunner::thread_done() const {
  std::lock_guard lock(mu_);
  return done_;
}

std::size_t SinkRunner::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void SinkRunner::request_finish() {
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
  }
  cv_.notify_all();
}

bool SinkRunner::finish(std::chrono::steady_clock::time_point deadline) {
  request_finish();
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) {
    // Never started (the run ended before its first interval): close here.
    if (!done_) {
      done_ = true;
      queue_.clear();
      queued_events_ = 0;
      lock.unlock();
      if (close_sink()) state_.store(SinkState::closed);
    }
    return true;
  }
  if (!cv_.wait_until(lock, deadline, [this] { return done_; })) return false;
  lock.unlock();
  thread_.join();
  return true;
}

void SinkRunner::abandon() {
  std::lock_guard lock(end_mu_);
  on_end_ = nullptr;
}

void SinkRunner::notify_end(SinkState state, const std::string& error) {
  std::lock_guard lock(end_mu_);
  if (on_end_) on_end_(name_, state, error);
}

bool SinkRunner::close_sink() {
  try {
    sink_->close();
    return true;
  } catch (const std::exception& e) {
    state_.store(SinkState::failed);
    notify_end(SinkState::failed, e.what());
    return false;
  }
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
      Entry e = std::move(queue_.front());
      queue_.pop_front();
      queued_events_ -= e.events;
      lock.unlock();
      batch = materialize(e);
    }
    int rc = 0;
    try {
      rc = sink_->write(*batch);
    } catch (const std::exception& e) {
      error = e.what();
      end = SinkState::failed;
      break;
    }
    if (rc != NETMON_OK && rc != NETMON_CLOSED) {  // not success: a failure
      error = "sink " + sink_->name() + ": write returned " + std::to_string(rc) +
              ", which is neither NETMON_OK nor NETMON_CLOSED";
      end = SinkState::failed;
      break;
    }
    if (rc == NETMON_OK) delivered_.fetch_add(1);
    if (rc == NETMON_CLOSED) {  // the reader went away
      end = SinkState::closed;
      error.clear();
      {
        std::lock_guard lock(mu_);
        dropped_.fetch_add(queue_.size());
        lost_events_.fetch_add(queued_events_);  // events the sink will never see: lost, and counted so
        queue_.clear();
        queued_events_ = 0;
      }
      state_.store(SinkState::closed);
      notify_end(SinkState::closed, {});
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
      lost_events_.fetch_add(queued_events_);
      queue_.clear();
      queued_events_ = 0;
    }
    state_.store(SinkState::failed);
    try {
      sink_->close();
    } catch (const std::exception&) {
      // Already failed; the first error is the one worth reporting.
    }
    notify_end(SinkState::failed, error);
    return;
  }
  if (close_sink()) state_.store(SinkState::closed);
}

void SampleBus::add_sink(std::unique_ptr<SinkPort> sink, SinkEndedFn on_end) {
  sinks_.push_back(std::make_unique<SinkRunner>(std::move(sink), capacity_, std::move(on_end), event_bound_));
  abandoned_.push_back(false);
}

std::size_t SampleBus::publish(std::shared_ptr<const Batch> batch) {
  std::size_t accepted = 0;
  for (auto& s : sinks_)
    if (s->offer(batch)) ++accepted;
  return accepted;
}

void SampleBus::start() {
  for (auto& s : sinks_) s->start();
}

std::vector<std::string> SampleBus::finish(std::chrono::steady_clock::time_point deadline) {
  std::vector<std::string> blocked;
  // Every sink drains at once, so one blocked sink costs the others no time.
  for (std::size_t i = 0; i < sinks_.size(); ++i)
    if (!abandoned_[i]) sinks_[i]->request_finish();
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (abandoned_[i] || sinks_[i]->finish(deadline)) continue;
    sinks_[i]->abandon();
    abandoned_[i] = true;
    g_sinks_left_running = true;
    blocked.push_back(sinks_[i]->name());
  }
  return blocked;
}

SampleBus::~SampleBus() {
  // A runner whose thread outlived its deadline is never freed, not even at
  // exit: its thread still uses it (and its destructor would join it). Kept
  // reachable, so leak checkers see it is deliberate.
  static std::mutex mu;
  static std::vector<SinkRunner*>* abandoned = new std::vector<SinkRunner*>;
  // Normally finish() ran already; on a path that skipped it (an exception
  // out of the run), sinks get the same 2 s, and one still blocked then is
  // abandoned rather than waited for forever.
  finish(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (!abandoned_[i]) continue;
    std::lock_guard lock(mu);
    abandoned->push_back(sinks_[i].release());
  }
}

bool sinks_left_running() { return g_sinks_left_running.load(); }

std::size_t SampleBus::running() const {
  std::size_t n = 0;
  for (const auto& s : sinks_)
    if (s->state() == SinkState::running) ++n;
  return n;
}

}  // namespace netmon::host
