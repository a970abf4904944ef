/*
 * control.h - the control protocol between `sos` and `sosd`.
 *
 * sosd listens on the unix socket DATA/sosd.sock (mode 0600, in a 0700
 * folder: only the node's owner can connect).  Each message, either way,
 * is one frame:
 *
 *   u32 json_len   little-endian, at most SOS_CONTROL_MAX_JSON
 *   u32 body_len   little-endian, at most SOS_CONTROL_MAX_BODY
 *   json_len bytes of a JSON object (UTF-8)
 *   body_len bytes of opaque body (request or response bytes, an image)
 *
 * A client sends a request frame whose JSON has "op" and the op's fields;
 * sosd answers each request with one frame whose JSON has "ok": true or
 * "ok": false with "error" (a sentence for people).  Answers come in
 * order except for calls, which finish when their service answers: a
 * client that pipelines calls gives each an "id" (a number), echoed in its
 * answer.  A frame
 * that breaks these rules gets one error answer and the connection is
 * closed; nothing else in the node is affected.  docs/operations.md lists
 * the ops:
 *
 *   status                          pid, data, version, uptime, counts
 *   deploy   (body: image bytes)    image, app, services: [{name, version}]
 *   ps                              services: [...]
 *   call     service, method, [timeout_ms], [typed]  (body: request)
 *                                   status, status_name, [typed], body: response
 *                                   (typed: the request is JSON, converted with
 *                                   the method's request struct when the
 *                                   service's interface declares it; the
 *                                   answer says typed when its body is JSON)
 *   describe service                interface, app, app_version, version,
 *                                   body: the interface in the SOS language
 *   logs     service, [lines], [from]       next (offset), body: text
 *   rollback service                version
 *   rm       service
 *   stop                            answers, then shuts the node down
 */
#ifndef SOS_CONTROL_H
#define SOS_CONTROL_H

#define SOS_CONTROL_SOCKET "sosd.sock"
#define SOS_CONTROL_MAX_JSON (1u << 20)
#define SOS_CONTROL_MAX_BODY (256u << 20)

#endif
