// SPDX-License-Identifier: MIT
// The sample bus (framework/src/bus.hpp): fan-out to every sink, one bounded
// queue per sink with counted drops, per-sink ordering, and how a sink ends.
#include "bus.hpp"

#include <netmon/error.hpp>
#include <netmon/plugin_abi.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/unit_util.hpp"

using netmon::Batch;
using netmon::host::SampleBus;
using netmon::host::SinkEndedFn;
using netmon::host::SinkPort;
using netmon::host::SinkRunner;
using netmon::host::SinkState;
using namespace std::chrono_literals;

namespace {

// What a test sink saw; shared with the test, outlives the sink.
struct Record {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> sequences;
  std::vector<const Batch*> addresses;
  std::vector<std::uint64_t> events;      // "id" of every event sample, in the order written
  std::vector<std::int64_t> event_times;  // their timestamp_ns
  std::vector<std::uint64_t> snapshots;   // "n" of every snapshot sample
  int closes = 0;
  bool in_write = false;
  bool released = true;  // gate: write waits while false

  void release() {
    {
      std::lock_guard lock(mu);
      released = true;
    }
    cv.notify_all();
  }
  // Waits until a write is blocked on the gate.
  bool wait_in_write(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [this] { return in_write; });
  }
  std::vector<std::uint64_t> seqs() {
    std::lock_guard lock(mu);
    return sequences;
  }
  int close_count() {
    std::lock_guard lock(mu);
    return closes;
  }
};

// A SinkPort whose behaviour a test chooses.
class TestSink final : public SinkPort {
 public:
  struct Behaviour {
    bool gated = false;                    // writes wait until Record::release()
    std::optional<std::size_t> closed_at;  // return NETMON_CLOSED on write number N (0-based)
    std::optional<std::size_t> throw_at;   // throw netmon::Error on write number N
    std::optional<std::size_t> code7_at;   // return 7, no netmon return code, on write number N
    std::chrono::microseconds delay{0};    // per write
    bool close_throws = false;
  };
  TestSink(std::string name, std::shared_ptr<Record> rec, Behaviour b)
      : name_(std::move(name)), rec_(std::move(rec)), b_(b) {
    if (b_.gated) rec_->released = false;
  }

  [[nodiscard]] const std::string& name() const override { return name_; }

  int write(const Batch& batch) override {
    const std::size_t n = writes_++;
    {
      std::unique_lock lock(rec_->mu);
      rec_->in_write = true;
      rec_->cv.notify_all();
      rec_->cv.wait(lock, [this] { return rec_->released; });
      rec_->in_write = false;
    }
    if (b_.delay.count()) std::this_thread::sleep_for(b_.delay);
    if (b_.throw_at && *b_.throw_at == n)
      throw netmon::Error("sink " + name_ + ": disk full on write " + std::to_string(n));
    {
      std::lock_guard lock(rec_->mu);
      rec_->sequences.push_back(batch.sequence);
      rec_->addresses.push_back(&batch);
      for (const auto& smp : batch.samples) {
        if (smp.is_event()) {
          rec_->events.push_back(smp.u64("id").value_or(~0ull));
          rec_->event_times.push_back(smp.timestamp_ns);
        } else {
          rec_->snapshots.push_back(smp.u64("n").value_or(~0ull));
        }
      }
    }
    if (b_.closed_at && *b_.closed_at == n) return NETMON_CLOSED;
    if (b_.code7_at && *b_.code7_at == n) return 7;
    return NETMON_OK;
  }

  void close() override {
    {
      std::lock_guard lock(rec_->mu);
      ++rec_->closes;
    }
    if (b_.close_throws) throw netmon::Error("sink " + name_ + ": cannot close: flush failed");
  }

 private:
  std::string name_;
  std::shared_ptr<Record> rec_;
  Behaviour b_;
  std::size_t writes_ = 0;
};

std::shared_ptr<const Batch> batch(std::uint64_t seq) {
  auto b = std::make_shared<Batch>();
  b->sequence = seq;
  b->timestamp_ns = static_cast<std::int64_t>(seq) * 1'000'000'000;
  b->interval_ns = 1'000'000'000;
  b->samples.push_back(netmon::Sample("m").counter("n", seq));
  return b;
}

// A batch with one snapshot ("m", n = seq) and k events ("ev", id = seq * k
// + j, timestamp 0: the interval's time), the events after the snapshot.
std::shared_ptr<const Batch> event_batch(std::uint64_t seq, std::uint64_t k) {
  auto b = std::make_shared<Batch>();
  b->sequence = seq;
  b->timestamp_ns = static_cast<std::int64_t>(seq) * 1'000'000'000;
  b->interval_ns = 1'000'000'000;
  b->samples.push_back(netmon::Sample("m").counter("n", seq));
  for (std::uint64_t j = 0; j < k; ++j) b->samples.push_back(netmon::Sample("ev").event().gauge("id", seq * k + j));
  return b;
}

std::vector<std::uint64_t> iota(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (auto i = from; i < to; ++i) v.push_back(i);
  return v;
}

// Captures the on_end callback, once.
struct EndCapture {
  std::promise<std::tuple<std::string, SinkState, std::string>> promise;
  std::future<std::tuple<std::string, SinkState, std::string>> future = promise.get_future();
  std::atomic<int> calls{0};
  SinkEndedFn fn() {
    return [this](const std::string& sink, SinkState state, const std::string& error) {
      if (calls.fetch_add(1) == 0) promise.set_value({sink, state, error});
    };
  }
  std::optional<std::tuple<std::string, SinkState, std::string>> wait(std::chrono::milliseconds t = 5s) {
    if (future.wait_for(t) != std::future_status::ready) return std::nullopt;
    return future.get();
  }
};

}  // namespace

TEST(Bus, FanOutToEverySinkInOrder) {
  SampleBus bus(64);
  std::vector<std::shared_ptr<Record>> recs;
  int ends = 0;
  for (int i = 0; i < 3; ++i) {
    recs.push_back(std::make_shared<Record>());
    bus.add_sink(std::make_unique<TestSink>("s" + std::to_string(i), recs.back(), TestSink::Behaviour{}),
                 [&ends](const std::string&, SinkState, const std::string&) { ++ends; });
  }
  bus.start();
  std::vector<std::shared_ptr<const Batch>> sent;
  for (std::uint64_t i = 0; i < 20; ++i) {
    sent.push_back(batch(i));
    EXPECT_EQ(bus.publish(sent.back()), 3u) << "batch " << i;
  }
  EXPECT_EQ(bus.running(), 3u);
  bus.finish();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(recs[i]->seqs(), iota(0, 20)) << "sink " << i;
    EXPECT_EQ(recs[i]->close_count(), 1);
    // Every sink saw the very batch published: shared, not copied.
    for (std::size_t k = 0; k < sent.size(); ++k) EXPECT_EQ(recs[i]->addresses[k], sent[k].get());
    EXPECT_EQ(bus.sinks()[i]->delivered(), 20u);
    EXPECT_EQ(bus.sinks()[i]->dropped(), 0u);
    EXPECT_EQ(bus.sinks()[i]->name(), "s" + std::to_string(i));
  }
  EXPECT_EQ(ends, 0);  // a normal finish is not an "ended on its own"
  EXPECT_EQ(bus.running(), 0u);
}

TEST(Bus, BlockedSinkDropsItsOldestBatchesAndKeepsTheNewest) {
  constexpr std::size_t kCapacity = 2;
  constexpr std::uint64_t kBatches = 10;
  SampleBus bus(kCapacity);
  auto slow = std::make_shared<Record>();
  auto fast = std::make_shared<Record>();
  TestSink::Behaviour gated;
  gated.gated = true;
  bus.add_sink(std::make_unique<TestSink>("slow", slow, gated), nullptr);
  bus.add_sink(std::make_unique<TestSink>("fast", fast, TestSink::Behaviour{}), nullptr);

  bus.start();
  EXPECT_EQ(bus.publish(batch(0)), 2u);
  ASSERT_TRUE(slow->wait_in_write());  // batch 0 taken off the queue, write blocked
  std::vector<std::size_t> accepted;
  for (std::uint64_t i = 1; i < kBatches; ++i) {
    accepted.push_back(bus.publish(batch(i)));
    // Let the fast sink drain so its own queue never fills.
    for (int k = 0; k < 500 && bus.sinks()[1]->queued() > 0; ++k) std::this_thread::sleep_for(1ms);
  }
  // Every batch is queued for both; the slow sink's queue keeps the newest
  // two, each new batch pushing out its oldest.
  EXPECT_EQ(accepted, std::vector<std::size_t>(kBatches - 1, 2));
  EXPECT_EQ(bus.sinks()[0]->dropped(), kBatches - 1 - kCapacity);
  EXPECT_EQ(bus.sinks()[0]->queued(), kCapacity);
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::running);

  slow->release();
  bus.finish();
  EXPECT_EQ(slow->seqs(), (std::vector<std::uint64_t>{0, 8, 9}));
  EXPECT_EQ(fast->seqs(), iota(0, kBatches));
  EXPECT_EQ(bus.sinks()[0]->dropped(), 7u);
  EXPECT_EQ(bus.sinks()[0]->delivered(), 3u);
  EXPECT_EQ(bus.sinks()[1]->dropped(), 0u);
  EXPECT_EQ(bus.sinks()[1]->delivered(), kBatches);
}

TEST(Bus, PublishNeverBlocksOnABlockedSink) {
  SampleBus bus(4);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour gated;
  gated.gated = true;
  bus.add_sink(std::make_unique<TestSink>("stuck", rec, gated), nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  bus.start();
  for (std::uint64_t i = 0; i < 1000; ++i) bus.publish(batch(i));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  rec->release();
  bus.finish();
  const auto& r = *bus.sinks()[0];
  EXPECT_EQ(r.delivered() + r.dropped(), 1000u);
  EXPECT_GE(r.dropped(), 1000u - 1 - 4);
  ASSERT_FALSE(rec->seqs().empty());
  EXPECT_EQ(rec->seqs().back(), 999u) << "the newest batch is never the one dropped";
}

TEST(Bus, OrderPerSinkIsStrictlyIncreasingEvenWithDrops) {
  SampleBus bus(3);
  auto slow = std::make_shared<Record>();
  auto quick = std::make_shared<Record>();
  TestSink::Behaviour delayed;
  delayed.delay = 300us;
  bus.add_sink(std::make_unique<TestSink>("slow", slow, delayed), nullptr);
  TestSink::Behaviour light;
  light.delay = 20us;
  bus.add_sink(std::make_unique<TestSink>("quick", quick, light), nullptr);
  bus.start();
  for (std::uint64_t i = 0; i < 300; ++i) {
    bus.publish(batch(i));
    if (i % 10 == 0) std::this_thread::sleep_for(200us);
  }
  bus.finish();
  for (const auto& [rec, idx] : {std::pair{slow, 0}, std::pair{quick, 1}}) {
    const auto seqs = rec->seqs();
    ASSERT_FALSE(seqs.empty());
    EXPECT_EQ(seqs.back(), 299u) << "sink " << idx << ": the newest batch is never the one dropped";
    for (std::size_t k = 1; k < seqs.size(); ++k) EXPECT_LT(seqs[k - 1], seqs[k]) << "sink " << idx << " at " << k;
    EXPECT_EQ(seqs.size() + bus.sinks()[idx]->dropped(), 300u) << "sink " << idx;
    EXPECT_EQ(bus.sinks()[idx]->delivered(), seqs.size());
  }
}

TEST(Bus, ClosedSinkEndsWithStateClosed) {
  SampleBus bus(16);
  auto closing = std::make_shared<Record>();
  auto other = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.closed_at = 2;
  EndCapture end;
  bus.add_sink(std::make_unique<TestSink>("pipe", closing, b), end.fn());
  bus.add_sink(std::make_unique<TestSink>("file", other, TestSink::Behaviour{}), nullptr);
  bus.start();
  for (std::uint64_t i = 0; i < 3; ++i) EXPECT_EQ(bus.publish(batch(i)), 2u);

  const auto got = end.wait();
  ASSERT_TRUE(got.has_value()) << "on_end was not called";
  EXPECT_EQ(std::get<0>(*got), "pipe");
  EXPECT_EQ(std::get<1>(*got), SinkState::closed);
  EXPECT_EQ(std::get<2>(*got), "");
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::closed);
  EXPECT_EQ(bus.running(), 1u);

  // An ended sink accepts nothing more, and that is not a drop.
  EXPECT_EQ(bus.publish(batch(3)), 1u);
  bus.finish();
  EXPECT_EQ(closing->seqs(), iota(0, 3));
  EXPECT_EQ(closing->close_count(), 1);
  // The batch answered with NETMON_CLOSED never reached a reader: not delivered.
  EXPECT_EQ(bus.sinks()[0]->delivered(), 2u);
  EXPECT_EQ(bus.sinks()[0]->dropped(), 0u);
  EXPECT_EQ(other->seqs(), iota(0, 4));
  EXPECT_EQ(end.calls.load(), 1);
}

TEST(Bus, ClosedSinkCountsItsQueuedBatchesAsDropped) {
  SampleBus bus(16);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.gated = true;
  b.closed_at = 0;
  EndCapture end;
  bus.add_sink(std::make_unique<TestSink>("pipe", rec, b), end.fn());
  bus.start();
  bus.publish(batch(0));
  ASSERT_TRUE(rec->wait_in_write());
  bus.publish(batch(1));
  bus.publish(batch(2));
  rec->release();
  const auto got = end.wait();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<1>(*got), SinkState::closed);
  bus.finish();
  EXPECT_EQ(rec->seqs(), (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(bus.sinks()[0]->delivered(), 0u);  // its one write was answered with NETMON_CLOSED
  EXPECT_EQ(bus.sinks()[0]->dropped(), 2u);
}

TEST(Bus, ThrowingSinkEndsWithStateFailedAndItsMessage) {
  SampleBus bus(16);
  auto rec = std::make_shared<Record>();
  auto other = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.throw_at = 1;
  EndCapture end;
  bus.add_sink(std::make_unique<TestSink>("disk", rec, b), end.fn());
  bus.add_sink(std::make_unique<TestSink>("ok", other, TestSink::Behaviour{}), nullptr);
  bus.start();
  bus.publish(batch(0));
  bus.publish(batch(1));
  const auto got = end.wait();
  ASSERT_TRUE(got.has_value()) << "on_end was not called";
  EXPECT_EQ(std::get<0>(*got), "disk");
  EXPECT_EQ(std::get<1>(*got), SinkState::failed);
  EXPECT_EQ(std::get<2>(*got), "sink disk: disk full on write 1");
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::failed);
  // The other sink goes on.
  EXPECT_EQ(bus.publish(batch(2)), 1u);
  bus.finish();
  EXPECT_EQ(rec->seqs(), (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(rec->close_count(), 1);  // closed even though it failed
  EXPECT_EQ(other->seqs(), iota(0, 3));
  EXPECT_EQ(end.calls.load(), 1);
}

// A return code that is neither NETMON_OK nor NETMON_CLOSED is a failure,
// not a success: the batch is not counted delivered and the message says why.
TEST(Bus, AnUnknownWriteReturnCodeIsAFailure) {
  SampleBus bus(16);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.code7_at = 1;
  EndCapture end;
  bus.add_sink(std::make_unique<TestSink>("odd", rec, b), end.fn());
  bus.start();
  bus.publish(batch(0));
  bus.publish(batch(1));
  const auto got = end.wait();
  ASSERT_TRUE(got.has_value()) << "on_end was not called";
  EXPECT_EQ(std::get<1>(*got), SinkState::failed);
  EXPECT_EQ(std::get<2>(*got), "sink odd: write returned 7, which is neither NETMON_OK nor NETMON_CLOSED");
  bus.finish();
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::failed);
  EXPECT_EQ(bus.sinks()[0]->delivered(), 1u);
  EXPECT_EQ(rec->close_count(), 1);
}

TEST(Bus, CloseThrowingOnFinishReportsFailed) {
  SampleBus bus(4);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.close_throws = true;
  EndCapture end;
  bus.add_sink(std::make_unique<TestSink>("flaky", rec, b), end.fn());
  bus.start();
  bus.publish(batch(0));
  bus.finish();
  const auto got = end.wait(0ms);  // finish() joined the thread: already called
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<1>(*got), SinkState::failed);
  EXPECT_EQ(std::get<2>(*got), "sink flaky: cannot close: flush failed");
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::failed);
  EXPECT_EQ(rec->seqs(), (std::vector<std::uint64_t>{0}));
}

TEST(Bus, FinishDeliversEverythingQueued) {
  SampleBus bus(32);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.delay = 5ms;
  bus.add_sink(std::make_unique<TestSink>("slow", rec, b), nullptr);
  bus.start();
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(bus.publish(batch(i)), 1u);
  bus.finish();  // returns only when all ten are written and the sink closed
  EXPECT_EQ(rec->seqs(), iota(0, 10));
  EXPECT_EQ(rec->close_count(), 1);
  EXPECT_EQ(bus.sinks()[0]->queued(), 0u);
  EXPECT_EQ(bus.sinks()[0]->delivered(), 10u);
  EXPECT_EQ(bus.sinks()[0]->dropped(), 0u);
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::closed);

  // Idempotent, and nothing is accepted (or counted as dropped) afterwards.
  bus.finish();
  EXPECT_EQ(rec->close_count(), 1);
  EXPECT_EQ(bus.publish(batch(10)), 0u);
  EXPECT_EQ(bus.sinks()[0]->dropped(), 0u);
}

TEST(Bus, RunnerZeroCapacityStillHoldsOne) {
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour gated;
  gated.gated = true;
  SinkRunner runner(std::make_unique<TestSink>("z", rec, gated), 0, nullptr);
  runner.start();
  EXPECT_TRUE(runner.offer(batch(0)));
  ASSERT_TRUE(rec->wait_in_write());
  EXPECT_TRUE(runner.offer(batch(1)));
  EXPECT_TRUE(runner.offer(batch(2)));  // batch 1 makes way
  EXPECT_EQ(runner.dropped(), 1u);
  rec->release();
  runner.finish();
  EXPECT_EQ(rec->seqs(), (std::vector<std::uint64_t>{0, 2}));
}

TEST(Bus, AnUnstartedSinkIsClosedByFinish) {
  SampleBus bus(4);
  auto rec = std::make_shared<Record>();
  bus.add_sink(std::make_unique<TestSink>("never", rec, TestSink::Behaviour{}), nullptr);
  EXPECT_TRUE(bus.finish().empty());
  EXPECT_EQ(rec->close_count(), 1);
  EXPECT_TRUE(rec->seqs().empty());
}

TEST(Bus, AnUnstartedSinkWhoseCloseFailsStaysFailed) {
  SampleBus bus(4);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.close_throws = true;
  std::vector<std::pair<SinkState, std::string>> ends;
  bus.add_sink(std::make_unique<TestSink>("never", rec, b),
               [&ends](const std::string&, SinkState st, const std::string& err) { ends.emplace_back(st, err); });
  EXPECT_TRUE(bus.finish().empty());
  EXPECT_EQ(bus.sinks()[0]->state(), SinkState::failed);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].first, SinkState::failed);
  EXPECT_NE(ends[0].second.find("flush failed"), std::string::npos) << ends[0].second;
}

TEST(Bus, AnAbandonedSinkNeverCallsBackOnceItUnblocks) {
  std::atomic<int> calls{0};
  auto stuck = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.gated = true;
  b.throw_at = 0;  // fails once it gets going: would report through the callback
  auto bus = std::make_unique<SampleBus>(4);
  bus->add_sink(std::make_unique<TestSink>("stuck", stuck, b),
                [&calls](const std::string&, SinkState, const std::string&) { ++calls; });
  bus->start();
  bus->publish(batch(0));
  ASSERT_TRUE(stuck->wait_in_write());
  EXPECT_EQ(bus->finish(std::chrono::steady_clock::now() + 50ms), std::vector<std::string>{"stuck"});
  const SinkRunner* runner = bus->sinks()[0].get();
  bus.reset();  // the owner of the callback's state goes, as run_host's stack does
  stuck->release();
  // Until the thread has returned: past the point where it would call back.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!runner->thread_done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  ASSERT_TRUE(runner->thread_done());
  EXPECT_EQ(runner->state(), SinkState::failed);  // the thread ran on and failed...
  EXPECT_EQ(calls.load(), 0);                     // ...without calling back
}

TEST(Bus, TheDestructorDoesNotWaitForeverForABlockedSink) {
  auto stuck = std::make_shared<Record>();
  TestSink::Behaviour gated;
  gated.gated = true;
  const auto t0 = std::chrono::steady_clock::now();
  {
    SampleBus bus(4);  // destroyed without finish(), as when an exception leaves the run
    bus.add_sink(std::make_unique<TestSink>("stuck", stuck, gated), nullptr);
    bus.start();
    bus.publish(batch(0));
    ASSERT_TRUE(stuck->wait_in_write());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(netmon::host::sinks_left_running());
  stuck->release();  // let the abandoned thread finish before the test ends
}

TEST(Bus, ABlockedSinkIsAbandonedAtTheDeadlineNotWaitedFor) {
  SampleBus bus(4);
  auto stuck = std::make_shared<Record>();
  auto ok = std::make_shared<Record>();
  TestSink::Behaviour gated;
  gated.gated = true;
  bus.add_sink(std::make_unique<TestSink>("stuck", stuck, gated), nullptr);
  bus.add_sink(std::make_unique<TestSink>("ok", ok, TestSink::Behaviour{}), nullptr);
  bus.start();
  for (std::uint64_t i = 0; i < 3; ++i) bus.publish(batch(i));
  ASSERT_TRUE(stuck->wait_in_write());
  const auto t0 = std::chrono::steady_clock::now();
  const auto blocked = bus.finish(t0 + std::chrono::milliseconds(200));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(blocked, std::vector<std::string>{"stuck"});
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_EQ(ok->seqs(), iota(0, 3));  // the other sink delivered everything
  stuck->release();                   // let the abandoned thread finish before the test ends
}

TEST(Bus, DestructorFinishes) {
  auto rec = std::make_shared<Record>();
  {
    SampleBus bus(8);
    bus.add_sink(std::make_unique<TestSink>("d", rec, TestSink::Behaviour{}), nullptr);
    bus.start();
    for (std::uint64_t i = 0; i < 5; ++i) bus.publish(batch(i));
  }
  EXPECT_EQ(rec->seqs(), iota(0, 5));
  EXPECT_EQ(rec->close_count(), 1);
}

// ---- snapshots and events --------------------------------------------------

namespace {

struct StalledRun {
  std::shared_ptr<Record> rec = std::make_shared<Record>();
  std::unique_ptr<SampleBus> bus;
};

// A sink blocked in its write of batch 0 while batches 1..n-1 (k events each)
// are published; the bus is returned before the sink is released.
StalledRun stall(std::size_t capacity, std::size_t bound, std::uint64_t batches, std::uint64_t k) {
  StalledRun r;
  r.bus = std::make_unique<SampleBus>(capacity, bound);
  TestSink::Behaviour gated;
  gated.gated = true;
  r.bus->add_sink(std::make_unique<TestSink>("stalled", r.rec, gated), nullptr);
  r.bus->start();
  r.bus->publish(event_batch(0, k));
  EXPECT_TRUE(r.rec->wait_in_write());
  for (std::uint64_t i = 1; i < batches; ++i) EXPECT_EQ(r.bus->publish(event_batch(i, k)), 1u);
  return r;
}

}  // namespace

TEST(BusEvents, AStalledSinkLosesNoEventBelowTheBound) {
  constexpr std::uint64_t kBatches = 100, kEvents = 5;
  auto r = stall(4, 1000, kBatches, kEvents);
  const auto& sink = *r.bus->sinks()[0];
  // Snapshots went as before: the oldest 95 batches dropped, the newest 4 kept;
  // their 475 events stayed queued.
  EXPECT_EQ(sink.dropped(), kBatches - 1 - 4);
  EXPECT_EQ(sink.queued(), 4u);
  EXPECT_EQ(sink.queued_events(), (kBatches - 1) * kEvents);
  EXPECT_EQ(sink.lost_events(), 0u);

  r.rec->release();
  r.bus->finish();
  EXPECT_EQ(r.rec->seqs(), (std::vector<std::uint64_t>{0, 96, 97, 98, 99}));
  EXPECT_EQ(r.rec->snapshots, (std::vector<std::uint64_t>{0, 96, 97, 98, 99}));
  // Every event exactly once, in order, each with its own interval's time.
  EXPECT_EQ(r.rec->events, iota(0, kBatches * kEvents));
  ASSERT_EQ(r.rec->event_times.size(), kBatches * kEvents);
  for (std::uint64_t id = 0; id < kBatches * kEvents; ++id) {
    const auto seq = id / kEvents;
    // Carried events get their interval's time; those of delivered batches keep 0.
    const std::int64_t want = (seq == 0 || seq >= 96) ? 0 : static_cast<std::int64_t>(seq) * 1'000'000'000;
    ASSERT_EQ(r.rec->event_times[id], want) << "event " << id;
  }
  EXPECT_EQ(sink.lost_events(), 0u);
  EXPECT_EQ(sink.delivered(), 5u);
  EXPECT_EQ(sink.dropped(), 95u);
}

TEST(BusEvents, EventsQueuedBehindASinkThatClosesAreCountedLost) {
  SampleBus bus(16, 1000);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour b;
  b.gated = true;
  b.closed_at = 0;  // its first write answers NETMON_CLOSED (a reader gone)
  EndCapture end;
  bus.add_sink(std::make_unique<TestSink>("pipe", rec, b), end.fn());
  bus.start();
  bus.publish(event_batch(0, 3));
  ASSERT_TRUE(rec->wait_in_write());
  bus.publish(event_batch(1, 3));
  bus.publish(event_batch(2, 3));
  rec->release();
  ASSERT_TRUE(end.wait().has_value());
  bus.finish();
  const auto& sink = *bus.sinks()[0];
  EXPECT_EQ(sink.dropped(), 2u);
  EXPECT_EQ(sink.lost_events(), 6u) << "the events of the two batches it never wrote";
  EXPECT_EQ(sink.queued_events(), 0u);
}

TEST(BusEvents, AboveTheBoundExactlyTheOldestExcessIsLostAndCounted) {
  constexpr std::uint64_t kBatches = 100, kEvents = 5;
  constexpr std::size_t kBound = 100;
  auto r = stall(4, kBound, kBatches, kEvents);
  const auto& sink = *r.bus->sinks()[0];
  const std::uint64_t queued_total = (kBatches - 1) * kEvents;  // 495 behind the blocked write
  EXPECT_EQ(sink.queued_events(), kBound);
  EXPECT_EQ(sink.lost_events(), queued_total - kBound);

  r.rec->release();
  r.bus->finish();
  // Batch 0's events (being written when the sink stalled), then the newest 100.
  std::vector<std::uint64_t> want = iota(0, kEvents);
  for (auto id : iota(kBatches * kEvents - kBound, kBatches * kEvents)) want.push_back(id);
  EXPECT_EQ(r.rec->events, want);
  EXPECT_EQ(sink.lost_events(), 395u);
  EXPECT_EQ(r.rec->events.size() + sink.lost_events(), kBatches * kEvents);
  EXPECT_EQ(r.rec->snapshots, (std::vector<std::uint64_t>{0, 96, 97, 98, 99}));
  EXPECT_EQ(sink.dropped(), 95u);
}

TEST(BusEvents, PastTheBoundEventsOfAQueuedBatchGoButItsSnapshotStays) {
  // No batch is dropped (capacity 4, 3 queued), but 9 events exceed the
  // bound of 7: the two oldest queued events (ids 3 and 4, batch 1's) go.
  auto r = stall(4, 7, 4, 3);
  const auto& sink = *r.bus->sinks()[0];
  EXPECT_EQ(sink.dropped(), 0u);
  EXPECT_EQ(sink.lost_events(), 2u);
  EXPECT_EQ(sink.queued_events(), 7u);
  r.rec->release();
  r.bus->finish();
  EXPECT_EQ(r.rec->seqs(), iota(0, 4));
  EXPECT_EQ(r.rec->snapshots, iota(0, 4));
  EXPECT_EQ(r.rec->events, (std::vector<std::uint64_t>{0, 1, 2, 5, 6, 7, 8, 9, 10, 11}));
}

TEST(BusEvents, ABatchWithMoreEventsThanTheBoundKeepsItsNewest) {
  SampleBus bus(2, 4);
  auto rec = std::make_shared<Record>();
  TestSink::Behaviour gated;
  gated.gated = true;
  bus.add_sink(std::make_unique<TestSink>("s", rec, gated), nullptr);
  bus.start();
  bus.publish(event_batch(0, 0));
  ASSERT_TRUE(rec->wait_in_write());
  bus.publish(event_batch(1, 10));  // ids 10..19
  EXPECT_EQ(bus.sinks()[0]->lost_events(), 6u);
  rec->release();
  bus.finish();
  EXPECT_EQ(rec->events, iota(16, 20));
  EXPECT_EQ(rec->snapshots, iota(0, 2));
}

TEST(BusEvents, ASinkThatKeepsUpGetsTheBatchItselfEventsIncluded) {
  SampleBus bus(4, 8);
  auto rec = std::make_shared<Record>();
  bus.add_sink(std::make_unique<TestSink>("s", rec, TestSink::Behaviour{}), nullptr);
  bus.start();
  std::vector<std::shared_ptr<const Batch>> sent;
  for (std::uint64_t i = 0; i < 10; ++i) {
    sent.push_back(event_batch(i, 3));
    bus.publish(sent.back());
    for (int k = 0; k < 500 && bus.sinks()[0]->queued() > 0; ++k) std::this_thread::sleep_for(1ms);
  }
  bus.finish();
  EXPECT_EQ(rec->events, iota(0, 30));
  ASSERT_EQ(rec->addresses.size(), sent.size());
  for (std::size_t k = 0; k < sent.size(); ++k) EXPECT_EQ(rec->addresses[k], sent[k].get()) << "no copy for " << k;
  EXPECT_EQ(bus.sinks()[0]->lost_events(), 0u);
  EXPECT_EQ(bus.sinks()[0]->queued_events(), 0u);
}

TEST(BusEvents, UnderLoadEveryEventIsDeliveredOnceInOrderOrCountedLost) {
  // Timing decides which batches drop; the invariants hold whatever it is.
  for (const std::size_t bound : {std::size_t{100000}, std::size_t{50}}) {
    constexpr std::uint64_t kBatches = 400, kEvents = 4;
    SampleBus bus(3, bound);
    auto rec = std::make_shared<Record>();
    TestSink::Behaviour slow;
    slow.delay = 300us;
    bus.add_sink(std::make_unique<TestSink>("slow", rec, slow), nullptr);
    bus.start();
    for (std::uint64_t i = 0; i < kBatches; ++i) {
      bus.publish(event_batch(i, kEvents));
      if (i % 10 == 0) std::this_thread::sleep_for(200us);
    }
    bus.finish();
    const auto& sink = *bus.sinks()[0];
    const auto& ev = rec->events;
    for (std::size_t k = 1; k < ev.size(); ++k) ASSERT_LT(ev[k - 1], ev[k]) << "bound " << bound << " at " << k;
    EXPECT_EQ(ev.size() + sink.lost_events(), kBatches * kEvents) << "bound " << bound;
    if (bound > kBatches * kEvents) {
      EXPECT_EQ(ev, iota(0, kBatches * kEvents));
      EXPECT_EQ(sink.lost_events(), 0u);
    }
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev.back(), kBatches * kEvents - 1) << "the newest event is never the one lost";
    EXPECT_EQ(rec->seqs().size() + sink.dropped(), kBatches);
  }
}
