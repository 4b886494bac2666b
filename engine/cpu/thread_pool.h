// A fixed set of worker threads that run one parallel region at a time.
//
// Thread-safety: Run() may be called from any thread; concurrent calls are serialized.
#ifndef ENSOLVE_ENGINE_CPU_THREAD_POOL_H_
#define ENSOLVE_ENGINE_CPU_THREAD_POOL_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ensolve::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, size()) concurrently (the caller runs i = 0) and returns
  // when all have returned.
  void Run(const std::function<void(int)>& fn);

 private:
  void WorkerLoop(int index);

  std::mutex run_mu_;  // serializes Run()
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* task_ = nullptr;  // guarded by mu_
  long generation_ = 0;                             // guarded by mu_
  int pending_ = 0;                                 // guarded by mu_
  bool stop_ = false;                               // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_THREAD_POOL_H_
