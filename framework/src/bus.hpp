// SPDX-License-Identifier: MIT
// SampleBus: fans each interval's Batch out to every sink.
//
// Every sink has its own bounded queue and thread, so a slow or blocked sink
// never delays collection or the other sinks. publish() never blocks: when a
// sink's queue is full its oldest queued batch is dropped and counted, so a
// sink that falls behind skips to the newest totals (and always ends on the
// run's final batch). Each sink sees batches in publish order.
//
// Snapshots and events: dropping a batch drops its snapshots only. Its event
// samples (Sample::is_event()) move to the front of the next queued batch, so
// the sink still gets each event once and in order. Only when more than
// event_bound events are queued for one sink are the oldest of them dropped,
// each one counted (lost_events()). Threads start with start(), so that the
// host can drop its capabilities first (they are per thread). At the end,
// finish() gives the sinks until a deadline to deliver what is queued; a sink
// still blocked then (a pipe nobody reads) is abandoned, not waited for.
#pragma once

#include <netmon/sample.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace netmon::host {

// What the bus needs of a sink: write a batch (NETMON_OK / NETMON_CLOSED, or
// throw netmon::Error), and close.
class SinkPort {
 public:
  virtual ~SinkPort() = default;
  [[nodiscard]] virtual const std::string& name() const = 0;
  virtual int write(const Batch& batch) = 0;
  virtual void close() = 0;
};

enum class SinkState { running, closed, failed };

// Called from a sink's thread when it stops on its own (reader gone, error).
using SinkEndedFn = std::function<void(const std::string& sink, SinkState state, const std::string& error)>;

class SinkRunner {
 public:
  SinkRunner(std::unique_ptr<SinkPort> sink, std::size_t capacity, SinkEndedFn on_end,
             std::size_t event_bound = kEventBound);

  // Events queued per sink before the oldest are dropped (plugin_abi.h).
  static constexpr std::size_t kEventBound = NETMON_EVENT_QUEUE_BOUND;
  ~SinkRunner();
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  // Starts the sink's thread.
  void start();
  // Never blocks. Queues the batch; when the queue is full the oldest queued
  // batch is dropped (and counted) to make room, its events carried into the
  // next one; past the event bound the oldest events are dropped (and
  // counted). False when the sink has ended (not a drop).
  bool offer(std::shared_ptr<const Batch> batch);
  // Tells the thread to deliver what is queued, close the sink and return.
  void request_finish();
  // Delivers what is queued, closes the sink, joins the thread. Idempotent.
  // Returns false if the thread was still busy at the deadline (it is then
  // left running, and the runner must not be destroyed: see SampleBus).
  bool finish(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  // Gives up on a thread still blocked after finish(): its end callback is
  // never called again (what it refers to may be gone by then). Waits for a
  // callback in progress to return.
  void abandon();

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(); }
  [[nodiscard]] std::uint64_t delivered() const { return delivered_.load(); }
  // Event samples dropped past the event bound.
  [[nodiscard]] std::uint64_t lost_events() const { return lost_events_.load(); }
  [[nodiscard]] std::size_t queued() const;
  // Event samples queued (carried ones included).
  [[nodiscard]] std::size_t queued_events() const;
  [[nodiscard]] SinkState state() const { return state_.load(); }
  // Whether the sink's thread has returned (or never started and finish() ran).
  [[nodiscard]] bool thread_done() const;

 private:
  // A queued batch, with the events of dropped batches carried in front of
  // its own and the first `skip` of its own events dropped past the bound.
  struct Entry {
    std::shared_ptr<const Batch> batch;
    std::deque<Sample> carried;
    std::size_t skip = 0;
    std::size_t events = 0;  // events this entry will deliver
  };

  void run();
  // Drops the front entry's snapshots, moving its events into the next entry.
  void drop_front();  // mu_ held, queue_.size() >= 2
  // Drops the n oldest queued events.
  void drop_oldest_events(std::size_t n);  // mu_ held
  // The batch the sink is given for an entry.
  static std::shared_ptr<const Batch> materialize(Entry& e);
  // Closes the sink; false (and the failure reported) if that throws.
  bool close_sink();
  void notify_end(SinkState state, const std::string& error);

  std::unique_ptr<SinkPort> sink_;
  std::string name_;
  std::size_t capacity_;
  std::mutex end_mu_;  // guards on_end_: held while it runs
  SinkEndedFn on_end_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t event_bound_;
  std::deque<Entry> queue_;
  std::size_t queued_events_ = 0;  // guarded by mu_
  bool finishing_ = false;
  bool done_ = false;  // the thread has returned (guarded by mu_)
  std::atomic<SinkState> state_{SinkState::running};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> lost_events_{0};
  std::thread thread_;
};

class SampleBus {
 public:
  explicit SampleBus(std::size_t queue_capacity = 16, std::size_t event_bound = SinkRunner::kEventBound)
      : capacity_(queue_capacity), event_bound_(event_bound) {}
  ~SampleBus();
  SampleBus(const SampleBus&) = delete;
  SampleBus& operator=(const SampleBus&) = delete;

  void add_sink(std::unique_ptr<SinkPort> sink, SinkEndedFn on_end);
  void start();
  // Hands the batch to every running sink; returns how many accepted it.
  std::size_t publish(std::shared_ptr<const Batch> batch);
  // Finishes every sink by the deadline; returns the names of those still
  // blocked then. Their runners are abandoned (no callback from them any
  // more) and kept alive (deliberately never freed, even by the destructor)
  // so their threads may go on until the process exits: see
  // sinks_left_running().
  std::vector<std::string> finish(
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

  [[nodiscard]] const std::vector<std::unique_ptr<SinkRunner>>& sinks() const { return sinks_; }
  [[nodiscard]] std::size_t running() const;

 private:
  std::size_t capacity_;
  std::size_t event_bound_;
  std::vector<std::unique_ptr<SinkRunner>> sinks_;
  std::vector<bool> abandoned_;
};

// True once any bus of this process has abandoned a sink whose thread is
// still blocked. Such a thread may hold a lock of stdout's FILE or call into
// the logger, so the process must then end with _exit() after its own
// output, not with exit() (which flushes stdout and runs static
// destructors).
bool sinks_left_running();

}  // namespace netmon::host
