// Event statements (`when`, `at`, `terminate`): what they parse into, and every rejected
// form with its exact message and position.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/ir/eval.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

std::unique_ptr<Model> Parse(const std::string& src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

std::string ErrorOf(const std::string& src, const ModelLimits& limits = {}) {
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(src, limits);
  if (m.ok()) return "OK";
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(m.status().message());
}

constexpr char kBall[] = R"(state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v, h = 0
at t = 2.4, 4: e = e / 2
when h - 100 crosses 0: terminate
when v crosses 0 up: g = g, terminate
)";

TEST(EventsParse, Ball) {
  auto m = Parse(kBall);
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->num_events(), 4);
  EXPECT_TRUE(m->events_assign_params());
  const ModelEvent& bounce = m->events()[0];
  EXPECT_EQ(bounce.kind, ModelEvent::Kind::kCrossing);
  EXPECT_EQ(bounce.direction, -1);
  EXPECT_FALSE(bounce.terminate);
  EXPECT_EQ(bounce.line, 5);
  EXPECT_EQ(bounce.column, 1);
  ASSERT_EQ(bounce.assignments.size(), 2u);
  EXPECT_FALSE(bounce.assignments[0].param);
  EXPECT_EQ(bounce.assignments[0].index, 1);
  EXPECT_EQ(bounce.assignments[1].index, 0);
  // v = -e*v at u = (3, -7), p = (10, 0.5): 3.5; the condition is h.
  const double u[2] = {3, -7}, p[2] = {10, 0.5};
  EXPECT_EQ(ir::Evaluate(m->graph(), bounce.assignments[0].value, 0, u, p), 3.5);
  EXPECT_EQ(ir::Evaluate(m->graph(), bounce.condition, 0, u, p), 3);

  const ModelEvent& kick = m->events()[1];
  EXPECT_EQ(kick.kind, ModelEvent::Kind::kTimes);
  EXPECT_EQ(kick.times, (std::vector<double>{2.4, 4}));
  ASSERT_EQ(kick.assignments.size(), 1u);
  EXPECT_TRUE(kick.assignments[0].param);
  EXPECT_EQ(kick.assignments[0].index, 1);
  EXPECT_EQ(ir::Evaluate(m->graph(), kick.condition, 0, u, p), 0);

  EXPECT_EQ(m->events()[2].direction, 0);
  EXPECT_TRUE(m->events()[2].terminate);
  EXPECT_TRUE(m->events()[2].assignments.empty());
  EXPECT_EQ(m->events()[3].direction, 1);
  EXPECT_TRUE(m->events()[3].terminate);
  EXPECT_EQ(m->events()[3].assignments.size(), 1u);
  EXPECT_EQ(m->EventConditions().size(), 4u);
  EXPECT_EQ(m->EventValues(0).size(), 2u);
}

TEST(EventsParse, NoEventsNoParamsAssigned) {
  auto m = Parse("state x\nx' = -x\nat t = 1: x = 2\n");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->events_assign_params());
  auto none = Parse("state x\nx' = -x\n");
  EXPECT_EQ(none->num_events(), 0);
}

TEST(EventsParse, ConstantTimesAndContinuations) {
  auto m = Parse("state x\nx' = 1\nat t = pi, 2*pi,\n  sqrt(64):\n  x = 0,\n  terminate\n");
  ASSERT_NE(m, nullptr);
  const ModelEvent& ev = m->events()[0];
  EXPECT_EQ(ev.times, (std::vector<double>{M_PI, 2 * M_PI, 8}));
  EXPECT_TRUE(ev.terminate);
  EXPECT_EQ(ev.assignments.size(), 1u);
}

TEST(EventsParse, LetsAndOutputsInConditionsAndValues) {
  auto m = Parse(
      "state x, y\nlet r = x*x + y*y\noutput e = 2*r\nx' = y\ny' = -x\nwhen r - 1 crosses 0: x "
      "= e, y = t\n");
  ASSERT_NE(m, nullptr);
  const double u[2] = {1, 2};
  EXPECT_EQ(ir::Evaluate(m->graph(), m->events()[0].condition, 0, u, nullptr), 4);
  EXPECT_EQ(ir::Evaluate(m->graph(), m->events()[0].assignments[0].value, 0, u, nullptr), 10);
  EXPECT_EQ(ir::Evaluate(m->graph(), m->events()[0].assignments[1].value, 7, u, nullptr), 7);
}

struct BadEvent {
  const char* name;
  const char* source;
  const char* message;
};

const BadEvent kBad[] = {
    {"AssignLet", "state x\nlet a = 2*x\nx' = 1\nwhen x crosses 0: a = 1\n",
     "line 4, column 19: cannot assign to 'a', which is a let: an event assigns only states and "
     "params"},
    {"AssignOutput", "state x\noutput e = x\nx' = 1\nat t = 1: e = 0\n",
     "line 4, column 11: cannot assign to 'e', which is an output: an event assigns only states "
     "and params"},
    {"AssignTime", "state x\nx' = 1\nat t = 1: t = 0\n",
     "line 3, column 11: cannot assign to the time variable 't'"},
    {"AssignUnknown", "state x, vel\nx' = 1\nvel' = 0\nwhen x crosses 0: vell = 1\n",
     "line 4, column 19: assignment to undefined name 'vell' (did you mean 'vel'?)"},
    {"AssignTwice", "state x\nx' = 1\nat t = 1: x = 1, x = 2\n",
     "line 3, column 18: 'x' is assigned twice in this event (first at line 3, column 11)"},
    {"NoEquals", "state x\nx' = 1\nat t = 1: x + 1\n",
     "line 3, column 13: unexpected '+': expected '=' after 'x' (an event assigns x = ...)"},
    {"NoActions", "state x\nx' = 1\nat t = 1:\n",
     "line 4, column 1: unexpected end of input: expected an assignment (name = expr) or "
     "'terminate'"},
    {"ActionAfterTerminate", "state x\nx' = 1\nat t = 1: terminate, x = 1\n",
     "line 3, column 20: 'terminate' ends the event's actions: nothing may follow it"},
    {"TerminateAlone", "state x\nx' = 1\nterminate\n",
     "line 3, column 1: 'terminate' is an event's action: write it after 'when ...:' or 'at t = "
     "...:'"},
    {"NoCrosses", "state x\nx' = 1\nwhen x < 0: x = 1\n",
     "line 3, column 11: unexpected ':': expected 'crosses 0' after the condition (when <expr> "
     "crosses 0 [up|down]: ...)"},
    {"CrossesNonZero", "state x\nx' = 1\nwhen x crosses 1: x = 0\n",
     "line 3, column 16: unexpected number '1': expected '0' after 'crosses' (the crossing is "
     "of zero: write 'when a - b crosses 0')"},
    {"BadDirection", "state x\nx' = 1\nwhen x crosses 0 sideways: x = 0\n",
     "line 3, column 18: unexpected name 'sideways': expected 'up', 'down' or ':' before the "
     "event's actions"},
    {"MissingColon", "state x\nx' = 1\nwhen x crosses 0 up x = 0\n",
     "line 3, column 21: unexpected name 'x': expected ':' before the event's actions"},
    {"ConstantCondition", "state x\nparam k = 1\nx' = 1\nwhen 2 - 1 crosses 0: x = 0\n",
     "line 4, column 6: the condition of the event is constant: it never crosses 0"},
    {"AtWithoutT", "state x\nx' = 1\nat x = 1: x = 0\n",
     "line 3, column 4: unexpected name 'x': expected 't' after 'at' (at t = 1, 2.5: ...)"},
    {"AtWithoutEquals", "state x\nx' = 1\nat t 1: x = 0\n",
     "line 3, column 6: unexpected number '1': expected '=' after 'at t'"},
    {"TimeUsesState", "state x\nx' = 1\nat t = x: x = 0\n",
     "line 3, column 8: 'x' is a state: event times must be constant expressions (numbers, "
     "functions and pi)"},
    {"TimeUsesParam", "state x\nparam k = 2\nx' = 1\nat t = k: x = 0\n",
     "line 4, column 8: 'k' is a param: event times must be constant expressions (numbers, "
     "functions and pi)"},
    {"TimeUsesTime", "state x\nx' = 1\nat t = t: x = 0\n",
     "line 3, column 8: 't' is the time variable: event times must be constant expressions "
     "(numbers, functions and pi)"},
    {"TimesUnsorted", "state x\nx' = 1\nat t = 4, 2.4: x = 0\n",
     "line 3, column 11: event times must be increasing: 2.4 comes after 4"},
    {"TimesDuplicate", "state x\nx' = 1\nat t = 1, 2, 2: x = 0\n",
     "line 3, column 14: duplicate event time 2"},
    {"TimeNotFinite", "state x\nx' = 1\nat t = 1/0: x = 0\n",
     "line 3, column 8: the event time is not finite (inf)"},
    {"TimesSeparator", "state x\nx' = 1\nat t = 1 2: x = 0\n",
     "line 3, column 10: unexpected number '2': expected ',' or ':' after an event time"},
    {"WhenAsName", "state when\n",
     "line 1, column 7: 'when' is a keyword and cannot be used as a name"},
    {"AtInExpression", "state x\nx' = at\n",
     "line 2, column 6: unexpected name 'at': expected an expression"},
    {"EventReserved", "state x\nevent x < 0\nx' = 1\n",
     "line 2, column 1: 'event' is not supported yet (reserved for named events)"},
    {"ConditionUndefined", "state x\nx' = 1\nwhen y crosses 0: x = 0\n",
     "line 3, column 6: undefined name 'y'"},
};

void PrintTo(const BadEvent& c, std::ostream* os) { *os << c.name; }

class EventErrors : public testing::TestWithParam<BadEvent> {};

TEST_P(EventErrors, Message) { EXPECT_EQ(ErrorOf(GetParam().source), GetParam().message); }

INSTANTIATE_TEST_SUITE_P(All, EventErrors, testing::ValuesIn(kBad),
                         [](const testing::TestParamInfo<BadEvent>& i) { return i.param.name; });

TEST(EventsLimits, Counted) {
  ModelLimits limits;
  limits.max_events = 2;
  EXPECT_EQ(ErrorOf("state x\nx' = 1\nat t = 1: x = 0\nat t = 2: x = 0\nat t = 3: x = 0\n", limits),
            "line 5, column 1: too many events (limit max_events = 2)");
  limits = ModelLimits();
  limits.max_event_times = 3;
  EXPECT_EQ(ErrorOf("state x\nx' = 1\nat t = 1, 2: x = 0\nat t = 3, 4: x = 0\n", limits),
            "line 4, column 11: too many event times (limit max_event_times = 3)");
  limits = ModelLimits();
  limits.max_nodes = 12;
  EXPECT_EQ(ErrorOf("state x\nx' = 1\nwhen sin(x) + cos(x) + exp(x) + x^3 + x^4 + x^5 crosses 0: "
                    "x = 0\n",
                    limits),
            "line 3, column 1: the model needs more IR nodes than the limit max_nodes = 12");
}

}  // namespace
}  // namespace ensolve
