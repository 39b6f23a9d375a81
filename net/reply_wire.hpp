#pragma once
// An HTTP/1.x answer as the bytes sent: status line, fields, body, built in
// one string. Boost.Beast's serializer walked a chain of buffer views for
// every answer (a tenth of the ad path's CPU); an answer with a whole body
// in hand needs none of that. Event streams write their own head.
#include "net/router.hpp"

#include <initializer_list>
#include <string>

namespace adserver::net {

/// Appends the reply's headers as `Name: value` lines, dropping a name that
/// is not an RFC 9110 token or is one of `reserved` (lower case: the fields
/// the server writes itself) and a value with a line break; of several with
/// one name, the last written wins. True if one is X-Request-Id.
bool append_headers(std::string& out, const http_reply& reply,
                    std::initializer_list<const char*> reserved);

/// The answer to a request of HTTP `version` (10 or 11): `Server`,
/// `Content-Type`, the reply's headers (append_headers: framing fields, e.g.
/// from a peer, are dropped), `X-Request-Id: fallback_request_id` unless the
/// reply has one, the Connection field `keep_alive` calls for,
/// `Content-Length`, then the body (not for a HEAD answer, `head_only`:
/// its length is the GET answer's). A 1xx, 204 or 304 answer has no
/// Content-Type, Content-Length or body.
std::string reply_wire(const http_reply& reply, unsigned version, bool keep_alive,
                       const std::string& fallback_request_id);

}  // namespace adserver::net
