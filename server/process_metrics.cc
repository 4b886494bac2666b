#include "server/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "server/internal/nvml.h"

namespace ensolve::server {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Seconds since the epoch at which the system booted (/proc/stat's btime).
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = -1;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddValue(prometheus::MetricFamily* f, double v,
              std::vector<prometheus::ClientMetric::Label> labels = {}) {
  if (v < 0) return;
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f->type == prometheus::MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f->metric.push_back(std::move(m));
}

}  // namespace

ProcessSample SampleProcess() {
  ProcessSample s;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ppid ...": comm may hold spaces, so split after
  // its closing parenthesis. Fields from there on are numbered from 3 (state).
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t close = stat.rfind(')');
  if (close != std::string::npos && close + 2 < stat.size()) {
    std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
    auto field = [&f](int n, double* out) {  // n: the field's number in proc(5)
      const size_t i = static_cast<size_t>(n - 3);
      return i < f.size() && absl::SimpleAtod(f[i], out);
    };
    double utime = 0, stime = 0, threads = 0, start = 0, vsize = 0, rss = 0;
    if (field(14, &utime) && field(15, &stime)) s.cpu_seconds = (utime + stime) / ticks;
    if (field(20, &threads)) s.threads = threads;
    if (field(22, &start)) {
      const double boot = BootTime();
      if (boot >= 0) s.start_time_seconds = boot + start / ticks;
    }
    if (field(23, &vsize)) s.virtual_bytes = vsize;
    if (field(24, &rss)) s.resident_bytes = rss * page;
  }
  if (DIR* d = opendir("/proc/self/fd"); d != nullptr) {
    int n = 0;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    s.open_fds = n - 1;  // less the descriptor of the listing itself
  }
  std::istringstream limits(ReadFile("/proc/self/limits"));
  for (std::string line; std::getline(limits, line);) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::vector<std::string> f = absl::StrSplit(line.substr(14), ' ', absl::SkipEmpty());
    double soft = 0;
    if (!f.empty() && absl::SimpleAtod(f[0], &soft)) s.max_fds = soft;
  }
  return s;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const ProcessSample p = SampleProcess();
  auto add = [&out](prometheus::MetricFamily f, double v) {
    AddValue(&f, v);
    if (!f.metric.empty()) out.push_back(std::move(f));
  };
  add(Family("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
             MetricType::Counter),
      p.cpu_seconds);
  add(Family("process_resident_memory_bytes", "Resident memory size in bytes", MetricType::Gauge),
      p.resident_bytes);
  add(Family("process_virtual_memory_bytes", "Virtual memory size in bytes", MetricType::Gauge),
      p.virtual_bytes);
  add(Family("process_open_fds", "Open file descriptors", MetricType::Gauge), p.open_fds);
  add(Family("process_max_fds", "Maximum number of open file descriptors", MetricType::Gauge),
      p.max_fds);
  add(Family("process_start_time_seconds", "Start time of the process since the Unix epoch",
             MetricType::Gauge),
      p.start_time_seconds);
  add(Family("process_threads", "Threads of the process", MetricType::Gauge), p.threads);

  if (const Nvml* nvml = Nvml::Get(); nvml != nullptr) {
    auto used = Family("ensolve_gpu_memory_used_bytes", "GPU memory in use (all processes), NVML",
                       MetricType::Gauge);
    auto total = Family("ensolve_gpu_memory_total_bytes", "GPU memory, NVML", MetricType::Gauge);
    auto util = Family("ensolve_gpu_utilization_ratio",
                       "Share of the last sample period a kernel ran on the GPU (0..1), NVML",
                       MetricType::Gauge);
    for (const GpuSample& g : nvml->Sample()) {
      std::vector<prometheus::ClientMetric::Label> labels = {
          {"gpu", std::to_string(g.index)}, {"name", g.name}, {"uuid", g.uuid}};
      AddValue(&used, static_cast<double>(g.memory_used_bytes), labels);
      AddValue(&total, static_cast<double>(g.memory_total_bytes), labels);
      AddValue(&util, g.utilization, labels);
    }
    for (auto* f : {&used, &total, &util}) {
      if (!f->metric.empty()) out.push_back(std::move(*f));
    }
  }
  return out;
}

}  // namespace ensolve::server
