// Evaluates an ir::Tape over a pack of lanes: one dispatch per instruction, W lanes of work
// each, so interpretation cost is amortized over the pack.
#ifndef ENSOLVE_ENGINE_CPU_TAPE_EVAL_H_
#define ENSOLVE_ENGINE_CPU_TAPE_EVAL_H_

#include <cmath>
#include <vector>

#include "engine/cpu/pack.h"
#include "engine/ir/tape.h"

namespace ensolve::cpu {
inline namespace ENSOLVE_CPU_ISA_NS {

// Runs the tape's instructions with register r at *reg[r] (laid out as ir::Tape describes;
// inputs and constants already in place): through pointers, so that a caller may point the
// input registers at its state vectors and the roots' registers at its outputs instead of
// copying them in and out. Each instruction is whole-vector arithmetic on the pack
// (pack.h); functions without a vector instruction run per lane.
template <class T, int W>
void RunTape(const ir::Tape& tape, Pack<T, W>* const* reg) {
  using ir::Op;
  using P = Pack<T, W>;
  const P one(T(1)), zero(T(0));
  for (const ir::Instr& in : tape.code) {
    P& d = *reg[in.dst];  // never one of the operands (tape.h)
    const P& a = *reg[in.a];
    const P& b = *reg[in.b];
    const P& c = *reg[in.c];
#define UNARY(FN) internal::Map(a, [](T x) { return FN(x); })
#define BINARY(FN) internal::Map2(a, b, [](T x, T y) { return FN(x, y); })
    switch (in.op) {
      case Op::kAdd:
        d = a + b;
        break;
      case Op::kSub:
        d = a - b;
        break;
      case Op::kMul:
        d = a * b;
        break;
      case Op::kDiv:
        d = a / b;
        break;
      case Op::kNeg:
        d = -a;
        break;
      case Op::kPow:
        d = BINARY(std::pow);
        break;
      case Op::kSin:
        d = UNARY(std::sin);
        break;
      case Op::kCos:
        d = UNARY(std::cos);
        break;
      case Op::kTan:
        d = UNARY(std::tan);
        break;
      case Op::kAsin:
        d = UNARY(std::asin);
        break;
      case Op::kAcos:
        d = UNARY(std::acos);
        break;
      case Op::kAtan:
        d = UNARY(std::atan);
        break;
      case Op::kSinh:
        d = UNARY(std::sinh);
        break;
      case Op::kCosh:
        d = UNARY(std::cosh);
        break;
      case Op::kTanh:
        d = UNARY(std::tanh);
        break;
      case Op::kExp:
        d = UNARY(std::exp);
        break;
      case Op::kLog:
        d = UNARY(std::log);
        break;
      case Op::kLog10:
        d = UNARY(std::log10);
        break;
      case Op::kSqrt:
        d = UNARY(std::sqrt);
        break;
      case Op::kAbs:
        d = UNARY(std::fabs);
        break;
      case Op::kFloor:
        d = UNARY(std::floor);
        break;
      case Op::kCeil:
        d = UNARY(std::ceil);
        break;
      case Op::kSign:
        d = Select(a > T(0), one, Select(a < T(0), -one, a));  // ±0 and NaN stay
        break;
      case Op::kNot:
        d = Select(a == T(0), one, zero);
        break;
      case Op::kAtan2:
        d = BINARY(std::atan2);
        break;
      case Op::kMin:
        d = BINARY(std::fmin);
        break;
      case Op::kMax:
        d = BINARY(std::fmax);
        break;
      case Op::kLt:
        d = Select(a < b, one, zero);
        break;
      case Op::kLe:
        d = Select(a <= b, one, zero);
        break;
      case Op::kGt:
        d = Select(a > b, one, zero);
        break;
      case Op::kGe:
        d = Select(a >= b, one, zero);
        break;
      case Op::kEq:
        d = Select(a == b, one, zero);
        break;
      case Op::kNe:
        d = Select(a != b, one, zero);
        break;
      case Op::kAnd:
        d = Select((a != T(0)) & (b != T(0)), one, zero);
        break;
      case Op::kOr:
        d = Select((a != T(0)) | (b != T(0)), one, zero);
        break;
      case Op::kIfElse:
        d = Select(a != T(0), b, c);
        break;
      case Op::kConst:
      case Op::kTime:
      case Op::kState:
      case Op::kParam:
        break;  // leaves live in their registers; never emitted as instructions
    }
#undef UNARY
#undef BINARY
  }
}

// The same on a plain register file.
template <class T, int W>
void RunTape(const ir::Tape& tape, Pack<T, W>* regs) {
  std::vector<Pack<T, W>*> reg(tape.num_regs);
  for (int r = 0; r < tape.num_regs; ++r) reg[r] = &regs[r];
  RunTape(tape, reg.data());
}

}  // namespace ENSOLVE_CPU_ISA_NS
}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_TAPE_EVAL_H_
