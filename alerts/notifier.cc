#include "alerts/notifier.h"

#include <strings.h>

namespace vigil::alerts {

std::string OutgoingRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0)
      return value;
  return "";
}

std::string_view DeliveryName(Delivery delivery) {
  switch (delivery) {
    case Delivery::kDelivered:
      return "delivered";
    case Delivery::kRetryable:
      return "retryable";
    case Delivery::kPermanent:
      return "permanent";
  }
  return "unknown";
}

DeliveryOutcome Deliver(const Notifier& notifier, Sender& sender, const Notification& notification,
                        int64_t now_ms) {
  Result<OutgoingRequest> request = notifier.Render(notification, now_ms);
  if (!request.ok()) {
    DeliveryOutcome outcome;
    outcome.delivery = Delivery::kPermanent;
    outcome.detail = std::string(notifier.channel()) + ": " + request.error().ToString();
    return outcome;
  }
  return notifier.Interpret(sender.Send(*request));
}

}  // namespace vigil::alerts
