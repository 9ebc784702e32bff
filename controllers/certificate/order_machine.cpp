#include "controllers/certificate/order_machine.h"

namespace portico::controllers::certificate {

const char* orderStepName(OrderStep step) {
  switch (step) {
    case OrderStep::NewOrder: return "NewOrder";
    case OrderStep::FetchChallenges: return "FetchChallenges";
    case OrderStep::AwaitTokens: return "AwaitTokens";
    case OrderStep::RespondChallenges: return "RespondChallenges";
    case OrderStep::PollOrder: return "PollOrder";
  }
  return "Unknown";
}

OrderStep nextOrderStep(const std::optional<crds::OrderProgress>& order, bool tokens_live) {
  if (!order) return OrderStep::NewOrder;
  if (order->responded) return OrderStep::PollOrder;
  // Not responded and no challenges: the authorizations have not been read yet (an order whose
  // authorizations were all valid already is marked responded when they are read).
  if (order->challenges.empty()) return OrderStep::FetchChallenges;
  return tokens_live ? OrderStep::RespondChallenges : OrderStep::AwaitTokens;
}

OrderAction actionForOrderStatus(const std::string& ca_status) {
  if (ca_status == "pending" || ca_status == "processing") return OrderAction::Wait;
  if (ca_status == "ready") return OrderAction::Finalize;
  if (ca_status == "valid") return OrderAction::Download;
  return OrderAction::Fail;  // invalid, or anything RFC 8555 §7.1.6 does not define
}

}  // namespace portico::controllers::certificate
