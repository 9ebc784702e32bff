// The ACME order as a state machine (pure; one step per reconcile, as cert-manager's Sync):
//   no order                               → NewOrder
//   order, challenges not fetched          → FetchChallenges (pending HTTP-01 tokens into status)
//   tokens not yet served long enough      → AwaitTokens
//   tokens served, CA not told             → RespondChallenges
//   CA told                                → PollOrder, then by the CA's order status:
//        pending / processing → Wait;  ready → Finalize;  valid → Download;  else → Fail
#pragma once

#include <optional>
#include <string>

#include "crds/certificate.h"

namespace portico::controllers::certificate {

enum class OrderStep { NewOrder, FetchChallenges, AwaitTokens, RespondChallenges, PollOrder };
const char* orderStepName(OrderStep step);

OrderStep nextOrderStep(const std::optional<crds::OrderProgress>& order, bool tokens_live);

enum class OrderAction { Wait, Finalize, Download, Fail };
OrderAction actionForOrderStatus(const std::string& ca_status);

}  // namespace portico::controllers::certificate
