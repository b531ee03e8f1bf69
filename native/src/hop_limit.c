/*
 * hop_limit: sets the IP time-to-live (IPv6 hop limit) of the packets a connected TCP socket
 * sends from now on. Node has no API for it on TCP sockets (only dgram.Socket#setTTL), and
 * imdsd needs it to send the IMDSv2 token response with the instance's
 * httpPutResponseHopLimit as its TTL, as EC2 does (docs: "Instance metadata access
 * considerations", hop limit). Nothing else belongs in this file.
 *
 *   setHopLimit(fd, hopLimit[, family])
 *                              sets IP_TTL and, on an IPv6 socket, IPV6_UNICAST_HOPS; family
 *                              (4 or 6) is the socket's, when the caller knows it
 *   getHopLimit(fd)            { ipTtl, ipv6UnicastHops } as the kernel will use them
 *
 * Errors are thrown as Error objects with `errno` and `syscall` properties.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <node_api.h>

#define HOP_LIMIT_MIN 1
#define HOP_LIMIT_MAX 255

static napi_value throw_errno(napi_env env, const char *syscall, int error_number) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(error_number));

  napi_value text, error, errno_value, syscall_value;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &error);
  napi_create_int32(env, error_number, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
  return NULL;
}

/* Reads argument `index` as an integer within [min, max]; throws a RangeError otherwise. */
static int int_argument(napi_env env, napi_value *argv, size_t argc, size_t index,
                        const char *name, int min, int max, int *out) {
  double value;
  if (index >= argc || napi_get_value_double(env, argv[index], &value) != napi_ok ||
      value != (double)(int)value || value < min || value > max) {
    char message[96];
    snprintf(message, sizeof message, "%s must be an integer from %d to %d", name, min, max);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  *out = (int)value;
  return 1;
}

/* The address family of the socket, or -1 with errno set. */
static int socket_family(int fd) {
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return -1;
  return address.ss_family;
}

/* Whether the peer of an IPv6 socket is an IPv4 address mapped into IPv6 (::ffff:a.b.c.d). */
static int peer_is_ipv4_mapped(int fd) {
  struct sockaddr_in6 peer;
  socklen_t length = sizeof peer;
  if (getpeername(fd, (struct sockaddr *)&peer, &length) != 0) return 1;
  return peer.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr);
}

/*
 * The family named by argument `index` (4 or 6), or else the socket's own, asked of the kernel.
 * A listener knows its sockets' family; naming it saves a getsockname on every token response.
 * Returns -1 with an exception pending on failure.
 */
static int family_argument(napi_env env, napi_value *argv, size_t argc, size_t index, int fd) {
  napi_valuetype type = napi_undefined;
  if (index < argc) napi_typeof(env, argv[index], &type);
  if (type == napi_undefined) {
    int family = socket_family(fd);
    if (family < 0) throw_errno(env, "getsockname", errno);
    return family;
  }

  double named;
  if (napi_get_value_double(env, argv[index], &named) != napi_ok || (named != 4 && named != 6)) {
    napi_throw_range_error(env, NULL, "family must be 4 or 6");
    return -1;
  }
  return named == 4 ? AF_INET : AF_INET6;
}

static napi_value set_hop_limit(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);

  int fd, hop_limit;
  if (!int_argument(env, argv, argc, 0, "fd", 0, 0x7fffffff, &fd)) return NULL;
  if (!int_argument(env, argv, argc, 1, "hopLimit", HOP_LIMIT_MIN, HOP_LIMIT_MAX, &hop_limit)) {
    return NULL;
  }

  int family = family_argument(env, argv, argc, 2, fd);
  if (family < 0) return NULL;

  if (family == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hop_limit, sizeof hop_limit) != 0) {
      return throw_errno(env, "setsockopt(IPV6_UNICAST_HOPS)", errno);
    }
    /* A dual-stack listener's IPv4 peers get IPv4 packets, whose TTL is IP_TTL. Linux takes
       IP_TTL on any IPv6 socket; elsewhere it may be refused, which only matters for those. */
    if (setsockopt(fd, IPPROTO_IP, IP_TTL, &hop_limit, sizeof hop_limit) != 0 &&
        peer_is_ipv4_mapped(fd)) {
      return throw_errno(env, "setsockopt(IP_TTL)", errno);
    }
    return NULL;
  }

  if (family == AF_INET) {
    if (setsockopt(fd, IPPROTO_IP, IP_TTL, &hop_limit, sizeof hop_limit) != 0) {
      return throw_errno(env, "setsockopt(IP_TTL)", errno);
    }
    return NULL;
  }

  return throw_errno(env, "setHopLimit", EAFNOSUPPORT);
}

static napi_value get_hop_limit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);

  int fd;
  if (!int_argument(env, argv, argc, 0, "fd", 0, 0x7fffffff, &fd)) return NULL;

  int family = socket_family(fd);
  if (family < 0) return throw_errno(env, "getsockname", errno);
  if (family != AF_INET && family != AF_INET6) return throw_errno(env, "getHopLimit", EAFNOSUPPORT);

  napi_value result, value;
  napi_create_object(env, &result);

  int ttl = 0;
  socklen_t length = sizeof ttl;
  if (getsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, &length) == 0) {
    napi_create_int32(env, ttl, &value);
    napi_set_named_property(env, result, "ipTtl", value);
  } else if (family == AF_INET) {
    return throw_errno(env, "getsockopt(IP_TTL)", errno);
  }

  if (family == AF_INET6) {
    int hops = 0;
    length = sizeof hops;
    if (getsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, &length) != 0) {
      return throw_errno(env, "getsockopt(IPV6_UNICAST_HOPS)", errno);
    }
    napi_create_int32(env, hops, &value);
    napi_set_named_property(env, result, "ipv6UnicastHops", value);
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "setHopLimit", NULL, set_hop_limit, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getHopLimit", NULL, get_hop_limit, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
