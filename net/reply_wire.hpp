#pragma once
// An HTTP/1.x answer as the bytes sent: status line, fields, body, built in
// one string. Boost.Beast's serializer walked a chain of buffer views for
// every answer (a tenth of the ad path's CPU); an answer with a whole body
// in hand needs none of that. Event streams and HEAD answers stay on Beast.
#include "net/router.hpp"

#include <string>

namespace adserver::net {

/// The answer to a request of HTTP `version` (10 or 11): `Server`,
/// `Content-Type` (not for 204), the reply's headers (a later one of the
/// same name replaces an earlier one), `X-Request-Id: fallback_request_id`
/// unless the reply has one, the Connection field `keep_alive` calls for,
/// `Content-Length` (not for 204, whose body is dropped), then the body.
std::string reply_wire(const http_reply& reply, unsigned version, bool keep_alive,
                       const std::string& fallback_request_id);

}  // namespace adserver::net
