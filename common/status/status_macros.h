// Early-return macros for absl::Status / absl::StatusOr, which absl 20220623 does not ship.
//
//   RETURN_IF_ERROR(DoThing());                  // returns the status if it is not OK
//   ASSIGN_OR_RETURN(auto value, MakeValue());   // declares `value` or returns the error
//   ASSIGN_OR_RETURN(value_, MakeValue());       // assigns to an existing lvalue
#ifndef VMBACKUP_COMMON_STATUS_STATUS_MACROS_H_
#define VMBACKUP_COMMON_STATUS_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VMB_STATUS_CONCAT_INNER_(a, b) a##b
#define VMB_STATUS_CONCAT_(a, b) VMB_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status vmb_status_ = (expr);       \
    if (!vmb_status_.ok()) return vmb_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, rexpr) VMB_ASSIGN_OR_RETURN_IMPL_(VMB_STATUS_CONCAT_(vmb_statusor_, __LINE__), lhs, rexpr)

#define VMB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)   \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // VMBACKUP_COMMON_STATUS_STATUS_MACROS_H_
