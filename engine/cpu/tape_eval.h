// Evaluates an ir::Tape over a pack of lanes: one dispatch per instruction, W lanes of work
// each, so interpretation cost is amortized over the pack.
#ifndef ENSOLVE_ENGINE_CPU_TAPE_EVAL_H_
#define ENSOLVE_ENGINE_CPU_TAPE_EVAL_H_

#include <cmath>

#include "engine/cpu/pack.h"
#include "engine/ir/tape.h"

namespace ensolve::cpu {

// Runs the tape's instructions on `regs` (laid out as ir::Tape describes; inputs and
// constants already in place).
template <class T, int W>
void RunTape(const ir::Tape& tape, Pack<T, W>* regs) {
  using ir::Op;
  for (const ir::Instr& in : tape.code) {
    T* d = regs[in.dst].v;
    const T* a = regs[in.a].v;
    const T* b = regs[in.b].v;
    const T* c = regs[in.c].v;
#define LANES(EXPR)                          \
  for (int l = 0; l < W; ++l) d[l] = (EXPR); \
  break
    switch (in.op) {
      case Op::kAdd:
        LANES(a[l] + b[l]);
      case Op::kSub:
        LANES(a[l] - b[l]);
      case Op::kMul:
        LANES(a[l] * b[l]);
      case Op::kDiv:
        LANES(a[l] / b[l]);
      case Op::kNeg:
        LANES(-a[l]);
      case Op::kPow:
        LANES(std::pow(a[l], b[l]));
      case Op::kSin:
        LANES(std::sin(a[l]));
      case Op::kCos:
        LANES(std::cos(a[l]));
      case Op::kTan:
        LANES(std::tan(a[l]));
      case Op::kAsin:
        LANES(std::asin(a[l]));
      case Op::kAcos:
        LANES(std::acos(a[l]));
      case Op::kAtan:
        LANES(std::atan(a[l]));
      case Op::kSinh:
        LANES(std::sinh(a[l]));
      case Op::kCosh:
        LANES(std::cosh(a[l]));
      case Op::kTanh:
        LANES(std::tanh(a[l]));
      case Op::kExp:
        LANES(std::exp(a[l]));
      case Op::kLog:
        LANES(std::log(a[l]));
      case Op::kLog10:
        LANES(std::log10(a[l]));
      case Op::kSqrt:
        LANES(std::sqrt(a[l]));
      case Op::kAbs:
        LANES(std::fabs(a[l]));
      case Op::kFloor:
        LANES(std::floor(a[l]));
      case Op::kCeil:
        LANES(std::ceil(a[l]));
      case Op::kSign:
        LANES(a[l] > T(0) ? T(1) : (a[l] < T(0) ? T(-1) : a[l]));  // ±0 and NaN stay
      case Op::kNot:
        LANES(T(a[l] == T(0)));
      case Op::kAtan2:
        LANES(std::atan2(a[l], b[l]));
      case Op::kMin:
        LANES(std::fmin(a[l], b[l]));
      case Op::kMax:
        LANES(std::fmax(a[l], b[l]));
      case Op::kLt:
        LANES(T(a[l] < b[l]));
      case Op::kLe:
        LANES(T(a[l] <= b[l]));
      case Op::kGt:
        LANES(T(a[l] > b[l]));
      case Op::kGe:
        LANES(T(a[l] >= b[l]));
      case Op::kEq:
        LANES(T(a[l] == b[l]));
      case Op::kNe:
        LANES(T(a[l] != b[l]));
      case Op::kAnd:
        LANES(T((a[l] != T(0)) && (b[l] != T(0))));
      case Op::kOr:
        LANES(T((a[l] != T(0)) || (b[l] != T(0))));
      case Op::kIfElse:
        LANES(a[l] != T(0) ? b[l] : c[l]);
      case Op::kConst:
      case Op::kTime:
      case Op::kState:
      case Op::kParam:
        break;  // leaves live in their registers; never emitted as instructions
    }
#undef LANES
  }
}

}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_TAPE_EVAL_H_
