#include "server/job_watch.h"

#include <utility>

#include "absl/time/clock.h"
#include "server/status_adapter.h"

namespace ensolve::server {

JobWatchStream::JobWatchStream(ServiceContext* ctx, const char* method,
                               std::shared_ptr<DetachedJob> job, int64_t from_offset)
    : ctx_(ctx), method_(method), job_(std::move(job)), start_(absl::Now()), offset_(from_offset) {
  Pump();
}

JobWatchStream::JobWatchStream(ServiceContext* ctx, const char* method, const absl::Status& status)
    : ctx_(ctx), method_(method), start_(absl::Now()), offset_(0) {
  {
    absl::MutexLock lock(&mu_);
    finishing_ = true;
  }
  End(ToGrpcStatus(status, method));
}

void JobWatchStream::OnJobMessages() { Pump(); }

void JobWatchStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    in_flight_.reset();
    if (!ok) cancelled_ = true;  // the stream broke; the job goes on
  }
  Pump();
}

void JobWatchStream::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  Pump();
}

void JobWatchStream::OnDone() {
  if (job_ != nullptr) job_->RemoveWatcher(this);
  Unref();  // deleted now, or when a notification in progress returns (it finds finishing_)
}

void JobWatchStream::Pump() {
  std::shared_ptr<const v1::SolveResponse> write;
  grpc::Status status;
  bool finish = false;
  {
    absl::MutexLock lock(&mu_);
    if (in_flight_ != nullptr || finishing_) return;
    if (cancelled_) {
      finish = true;
      status = grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled");
    } else {
      DetachedJob::Next next = job_->Get(offset_, this);
      if (next.message != nullptr) {
        write = next.message;
        in_flight_ = write;
        ++offset_;
      } else if (next.finished) {
        finish = true;
        status = next.status;
      }
    }
    finishing_ = finish;
  }
  // gRPC is called without mu_: its reactions may run on this thread before it returns.
  if (write != nullptr) {
    StartWrite(write.get());
  } else if (finish) {
    End(status);
  }
}

void JobWatchStream::End(const grpc::Status& status) {
  ctx_->metrics().RecordRequest(method_, GrpcCodeName(status.error_code()),
                                absl::ToDoubleSeconds(absl::Now() - start_));
  Finish(status);
}

}  // namespace ensolve::server
