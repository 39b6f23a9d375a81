#pragma once
// An HTTP/1.x answer as the bytes sent: status line, fields, body, built in
// one string. Boost.Beast's serializer walked a chain of buffer views for
// every answer (a tenth of the ad path's CPU); an answer with a whole body
// in hand needs none of that. Event streams write their own head.
#include "net/router.hpp"

#include <initializer_list>
#include <string>

namespace adserver::net {

/// Whether a reply may carry the header `name: value`: a name, no line break
/// in either, and not one of `reserved` (lower case: the fields the server
/// writes itself).
bool header_allowed(const std::string& name, const std::string& value,
                    std::initializer_list<const char*> reserved);

/// The answer to a request of HTTP `version` (10 or 11): `Server`,
/// `Content-Type`, the reply's headers (those header_allowed refuses, e.g.
/// framing fields from a peer, are dropped; a later one of the same name
/// replaces an earlier one), `X-Request-Id: fallback_request_id` unless the
/// reply has one, the Connection field `keep_alive` calls for,
/// `Content-Length`, then the body (not for a HEAD answer, `head_only`:
/// its length is the GET answer's). A 1xx, 204 or 304 answer has no
/// Content-Type, Content-Length or body.
std::string reply_wire(const http_reply& reply, unsigned version, bool keep_alive,
                       const std::string& fallback_request_id);

}  // namespace adserver::net
