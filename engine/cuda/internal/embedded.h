// Source files embedded in the binary at build time (engine/cuda/embed.cmake): the
// algorithm templates and the device kernel, by their repository paths.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_EMBEDDED_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_EMBEDDED_H_

namespace ensolve::cuda {

struct EmbeddedFile {
  const char* path;  // "engine/algorithms/tsit5.h"
  const char* text;
};

// The embedded files; `*count` receives their number.
const EmbeddedFile* EmbeddedFiles(int* count);

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_EMBEDDED_H_
