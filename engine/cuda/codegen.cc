#include "engine/cuda/codegen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/cuda/internal/embedded.h"

namespace ensolve::cuda {
namespace {

using ir::Node;
using ir::NodeId;
using ir::Op;

// An exact literal for v, converted to R (so a float model rounds each constant exactly as
// the CPU backend's static_cast<float>(double) does).
std::string Literal(double v) {
  if (std::isnan(v)) return "R(__longlong_as_double(0x7ff8000000000000LL))";
  if (std::isinf(v)) return v > 0 ? "Infinity()" : "(-Infinity())";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%a", v);
  return absl::StrCat("R(", buf, ")");
}

// The math function name for `base` (a double-precision C name) in precision p.
std::string Fn(const char* base, bool f32) { return f32 ? absl::StrCat(base, "f") : base; }

class Emitter {
 public:
  Emitter(const ir::Graph& g, bool f32) : g_(g), f32_(f32) {}

  // Statements computing `roots` into out[k] (out named `out`).
  std::string Function(const std::string& name, const std::vector<NodeId>& roots,
                       const std::string& out) {
    std::string body = absl::StrCat("__device__ __forceinline__ void ", name,
                                    "(R t, const R* __restrict__ u, const R* __restrict__ p, R* "
                                    "__restrict__ ",
                                    out, ") {\n");
    const std::vector<char> live = ir::Reachable(g_, roots);
    const NodeId top = static_cast<NodeId>(live.size()) - 1;
    bool uses_t = false, uses_u = false, uses_p = false;
    for (NodeId id = 0; id <= top; ++id) {
      if (!live[id]) continue;
      const Node& n = g_.node(id);
      uses_t |= n.op == Op::kTime;
      uses_u |= n.op == Op::kState;
      uses_p |= n.op == Op::kParam;
      if (IsLeaf(n.op)) continue;
      absl::StrAppend(&body, "  const R v", id, " = ", Expr(n), ";  // ", ir::OpName(n.op), "\n");
    }
    if (!uses_t) absl::StrAppend(&body, "  (void)t;\n");
    if (!uses_u) absl::StrAppend(&body, "  (void)u;\n");
    if (!uses_p) absl::StrAppend(&body, "  (void)p;\n");
    for (size_t k = 0; k < roots.size(); ++k) {
      absl::StrAppend(&body, "  ", out, "[", k, "] = ", Ref(roots[k]), ";\n");
    }
    absl::StrAppend(&body, "}\n");
    return body;
  }

 private:
  static bool IsLeaf(Op op) {
    return op == Op::kConst || op == Op::kTime || op == Op::kState || op == Op::kParam;
  }

  std::string Ref(NodeId id) const {
    const Node& n = g_.node(id);
    switch (n.op) {
      case Op::kConst:
        return Literal(n.value);
      case Op::kTime:
        return "t";
      case Op::kState:
        return absl::StrCat("u[", n.index, "]");
      case Op::kParam:
        return absl::StrCat("p[", n.index, "]");
      default:
        return absl::StrCat("v", id);
    }
  }

  std::string Call(const char* fn, const Node& n) const {
    return absl::StrCat(Fn(fn, f32_), "(", Ref(n.a), ")");
  }
  std::string Call2(const char* fn, const Node& n) const {
    return absl::StrCat(Fn(fn, f32_), "(", Ref(n.a), ", ", Ref(n.b), ")");
  }
  std::string Infix(const char* op, const Node& n) const {
    return absl::StrCat(Ref(n.a), " ", op, " ", Ref(n.b));
  }
  std::string Compare(const char* op, const Node& n) const {
    return absl::StrCat("R(", Ref(n.a), " ", op, " ", Ref(n.b), ")");
  }

  std::string Pow(const Node& n) const {
    double e = 0;
    const std::string a = Ref(n.a);
    if (g_.IsConstant(n.b, &e)) {
      if (e == 2) return absl::StrCat(a, " * ", a);
      if (e == 3) return absl::StrCat(a, " * ", a, " * ", a);
      if (e == -1) return absl::StrCat("R(1) / ", a);
    }
    return Call2("pow", n);
  }

  std::string Expr(const Node& n) const {
    switch (n.op) {
      case Op::kNeg:
        return absl::StrCat("-", Ref(n.a));
      case Op::kSin:
        return Call("sin", n);
      case Op::kCos:
        return Call("cos", n);
      case Op::kTan:
        return Call("tan", n);
      case Op::kAsin:
        return Call("asin", n);
      case Op::kAcos:
        return Call("acos", n);
      case Op::kAtan:
        return Call("atan", n);
      case Op::kSinh:
        return Call("sinh", n);
      case Op::kCosh:
        return Call("cosh", n);
      case Op::kTanh:
        return Call("tanh", n);
      case Op::kExp:
        return Call("exp", n);
      case Op::kLog:
        return Call("log", n);
      case Op::kLog10:
        return Call("log10", n);
      case Op::kSqrt:
        return Call("sqrt", n);
      case Op::kAbs:
        return Call("fabs", n);
      case Op::kFloor:
        return Call("floor", n);
      case Op::kCeil:
        return Call("ceil", n);
      case Op::kSign: {
        const std::string a = Ref(n.a);
        return absl::StrCat("(", a, " > R(0) ? R(1) : (", a, " < R(0) ? R(-1) : ", a, "))");
      }
      case Op::kNot:
        return absl::StrCat("R(", Ref(n.a), " == R(0))");
      case Op::kAdd:
        return Infix("+", n);
      case Op::kSub:
        return Infix("-", n);
      case Op::kMul:
        return Infix("*", n);
      case Op::kDiv:
        return Infix("/", n);
      case Op::kPow:
        return Pow(n);
      case Op::kAtan2:
        return Call2("atan2", n);
      case Op::kMin:
        return Call2("fmin", n);
      case Op::kMax:
        return Call2("fmax", n);
      case Op::kLt:
        return Compare("<", n);
      case Op::kLe:
        return Compare("<=", n);
      case Op::kGt:
        return Compare(">", n);
      case Op::kGe:
        return Compare(">=", n);
      case Op::kEq:
        return Compare("==", n);
      case Op::kNe:
        return Compare("!=", n);
      case Op::kAnd:
        return absl::StrCat("R(", Ref(n.a), " != R(0) && ", Ref(n.b), " != R(0))");
      case Op::kOr:
        return absl::StrCat("R(", Ref(n.a), " != R(0) || ", Ref(n.b), " != R(0))");
      case Op::kIfElse:
        return absl::StrCat("(", Ref(n.a), " != R(0) ? ", Ref(n.b), " : ", Ref(n.c), ")");
      case Op::kConst:
      case Op::kTime:
      case Op::kState:
      case Op::kParam:
        break;
    }
    return "R(0)";  // unreachable: leaves are never emitted as statements
  }

  const ir::Graph& g_;
  bool f32_;
};

// The events' device code (ensemble_kernel.cuh's ENSOLVE_EVENTS part): the conditions, each
// event's assignments, its kind, direction and times, and the stops (every `at` time in R,
// increasing, once) in constant memory.
std::string EventCode(const Model& model, bool f32) {
  const int ne = model.num_events();
  Emitter e(model.graph(), f32);
  std::string src;
  absl::StrAppend(&src, "#define ENSOLVE_EVENTS 1\nconstexpr int kE = ", ne, ";\n");
  absl::StrAppend(&src, e.Function("ModelEventConditions", model.EventConditions(), "g"));
  std::string apply =
      "__device__ __forceinline__ void ModelApplyEvent(int e, R t, R* u, R* p) {\n  switch (e) "
      "{\n";
  std::string dir = "__device__ __forceinline__ int ModelEventDirection(int e) {\n  switch (e) {\n";
  std::string kinds =
      "__device__ __forceinline__ bool ModelEventIsTimes(int e) {\n  switch (e) {\n";
  std::string term =
      "__device__ __forceinline__ bool ModelEventTerminates(int e) {\n  switch (e) {\n";
  std::string at = "__device__ __forceinline__ bool ModelAtStop(int e, R ts) {\n  switch (e) {\n";
  // Times as R values: a float32 kernel compares the rounded ones (as the CPU does).
  auto rounded = [&](double v) { return f32 ? static_cast<double>(static_cast<float>(v)) : v; };
  std::vector<double> stops;
  for (int k = 0; k < ne; ++k) {
    const ModelEvent& ev = model.events()[k];
    if (!ev.assignments.empty()) {
      const std::string fn = absl::StrCat("ModelEventValues", k);
      absl::StrAppend(&src, e.Function(fn, model.EventValues(k), "out"));
      absl::StrAppend(&apply, "    case ", k, ": {\n      R v[", ev.assignments.size(),
                      "];\n      ", fn, "(t, u, p, v);\n");
      for (size_t a = 0; a < ev.assignments.size(); ++a) {
        absl::StrAppend(&apply, "      ", ev.assignments[a].param ? "p[" : "u[",
                        ev.assignments[a].index, "] = v[", a, "];\n");
      }
      absl::StrAppend(&apply, "      break;\n    }\n");
    }
    if (ev.direction != 0) absl::StrAppend(&dir, "    case ", k, ": return ", ev.direction, ";\n");
    if (ev.kind == ModelEvent::Kind::kTimes) {
      absl::StrAppend(&kinds, "    case ", k, ":\n");
      absl::StrAppend(&at, "    case ", k, ": return false");
      for (double v : ev.times) {
        absl::StrAppend(&at, " || ts == ", Literal(rounded(v)));
        stops.push_back(rounded(v));
      }
      absl::StrAppend(&at, ";\n");
    }
    if (ev.terminate) absl::StrAppend(&term, "    case ", k, ":\n");
  }
  absl::StrAppend(&apply, "    default:\n      (void)t;\n      (void)u;\n      (void)p;\n  }\n}\n");
  absl::StrAppend(&dir, "    default: return 0;\n  }\n}\n");
  absl::StrAppend(&kinds, "      return true;\n    default: return false;\n  }\n}\n");
  absl::StrAppend(&term, "      return true;\n    default: return false;\n  }\n}\n");
  absl::StrAppend(&at, "    default: (void)ts; return false;\n  }\n}\n");
  // Without a case, `return true` would be every event's answer.
  if (kinds.find("    case") == std::string::npos) {
    kinds = "__device__ __forceinline__ bool ModelEventIsTimes(int) { return false; }\n";
  }
  if (term.find("    case") == std::string::npos) {
    term = "__device__ __forceinline__ bool ModelEventTerminates(int) { return false; }\n";
  }
  absl::StrAppend(&src, apply, dir, kinds, term, at);
  std::sort(stops.begin(), stops.end());
  stops.erase(std::unique(stops.begin(), stops.end()), stops.end());
  absl::StrAppend(&src, "constexpr int kNumStops = ", stops.size(), ";\n");
  absl::StrAppend(&src, "#define ENSOLVE_HAS_STOPS ", stops.empty() ? 0 : 1, "\n");
  if (!stops.empty()) {
    absl::StrAppend(&src, "__constant__ R kStops[", stops.size(), "] = {");
    for (size_t k = 0; k < stops.size(); ++k) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%a", stops[k]);
      absl::StrAppend(&src, k == 0 ? "" : ", ", "R(", buf, ")");
    }
    absl::StrAppend(&src, "};\n");
  }
  return src;
}

}  // namespace

std::string GenerateModelCode(const Model& model, Precision precision, bool jacobian,
                              bool time_derivative, bool noise) {
  Emitter e(model.graph(), precision == Precision::kFloat32);
  std::string out;
  absl::StrAppend(&out, e.Function("ModelRhs", model.rhs(), "du"));
  if (noise) absl::StrAppend(&out, e.Function("ModelNoise", model.noise(), "G"));
  if (jacobian) absl::StrAppend(&out, e.Function("ModelJacobian", model.jacobian(), "J"));
  if (time_derivative) {
    absl::StrAppend(&out, e.Function("ModelTimeDerivative", model.time_derivative(), "dt"));
  }
  return out;
}

std::string GenerateKernelSource(const Model& model, Algorithm algorithm, Precision precision,
                                 const std::vector<ir::NodeId>& selection) {
  const bool f32 = precision == Precision::kFloat32;
  std::string src = absl::StrCat("// ensolve kernel: ", AlgorithmName(algorithm), ", ",
                                 PrecisionName(precision), ", model ", model.hash(), "\n");
  const AlgorithmInfo& info = GetAlgorithmInfo(algorithm);
  absl::StrAppend(&src, "#include \"", info.header, "\"\n");
  absl::StrAppend(&src, "#define ENSOLVE_ALG ", info.type, "\n");
  absl::StrAppend(&src, "#define ENSOLVE_NEEDS_JACOBIAN ", info.jacobian ? 1 : 0, "\n");
  absl::StrAppend(&src, "#define ENSOLVE_NEEDS_TIME_DERIVATIVE ", info.time_derivative ? 1 : 0,
                  "\n");
  absl::StrAppend(&src, "#define ENSOLVE_BLOCK ", kBlockSize, "\n");
  absl::StrAppend(&src, "#define ENSOLVE_STOCHASTIC ", info.stochastic ? 1 : 0, "\n");
  absl::StrAppend(&src, "namespace ensolve_gen {\n");
  absl::StrAppend(&src, "typedef ", f32 ? "float" : "double", " R;\n");
  absl::StrAppend(&src, "constexpr int kN = ", model.num_states(), ";\n");
  absl::StrAppend(&src, "constexpr int kP = ", model.num_params(), ";\n");
  if (info.stochastic) absl::StrAppend(&src, "constexpr int kM = ", model.num_wiener(), ";\n");
  // A sensitivity model's Jacobian is block lower triangular (engine/model/sensitivity.h).
  absl::StrAppend(&src, "constexpr int kBlocks = ", 1 + model.sensitivity_params().size(), ";\n");
  absl::StrAppend(&src,
                  "__device__ __forceinline__ R Infinity() { return "
                  "R(__longlong_as_double(0x7ff0000000000000LL)); }\n");
  if (model.is_raw_kernel()) {
    // The tenant's ModelRhs, its lines numbered as in the request for NVRTC's messages.
    absl::StrAppend(&src, "#line 1 \"", kRawKernelSourceName, "\"\n", model.raw_cuda_source(),
                    "\n#line 1 \"ensolve_generated.cu\"\n");
  } else {
    absl::StrAppend(&src, GenerateModelCode(model, precision, info.jacobian, info.time_derivative,
                                            info.stochastic));
  }
  absl::StrAppend(&src, "#define ENSOLVE_SELECTION ", selection.empty() ? 0 : 1, "\n");
  absl::StrAppend(&src, "constexpr int kOut = ",
                  selection.empty() ? model.num_states() : static_cast<int>(selection.size()),
                  ";\n");
  if (!selection.empty()) {
    Emitter e(model.graph(), f32);
    absl::StrAppend(&src, e.Function("ModelOutputs", selection, "out"));
  }
  // Event code only for a model with events: the kernel of one without is unchanged.
  if (model.num_events() > 0) absl::StrAppend(&src, EventCode(model, f32));
  absl::StrAppend(&src, "}  // namespace ensolve_gen\n");
  absl::StrAppend(&src, "#include \"engine/cuda/device/ensemble_kernel.cuh\"\n");
  return src;
}

std::string SamplerKernelSource() { return "#include \"engine/cuda/device/sampler_kernel.cuh\"\n"; }

const std::vector<NamedHeader>& KernelHeaders() {
  static const std::vector<NamedHeader>* headers = [] {
    auto* h = new std::vector<NamedHeader>;
    int count = 0;
    const EmbeddedFile* files = EmbeddedFiles(&count);
    for (int i = 0; i < count; ++i) h->push_back(NamedHeader{files[i].path, files[i].text});
    return h;
  }();
  return *headers;
}

std::string KernelKey(const Model& model, Algorithm algorithm, Precision precision,
                      const std::vector<std::string>& outputs) {
  // The selection's names, each prefixed by its length (names are arbitrary text).
  std::string selection;
  for (const std::string& name : outputs) absl::StrAppend(&selection, name.size(), ":", name);
  return absl::StrCat(model.hash(), "/", AlgorithmName(algorithm), "/", PrecisionName(precision),
                      "/v", kCodegenVersion, outputs.empty() ? "" : "/", selection);
}

}  // namespace ensolve::cuda
