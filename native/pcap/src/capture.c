/*
 * teardown-pcap: libpcap capture on a thread of its own.
 *
 * The capture thread only copies each frame (16-byte header + bytes) into a ring buffer; JavaScript drains the
 * ring with read() on the main thread, where the analysis runs. A slow analysis therefore never stalls libpcap:
 * when the ring is full the frame is dropped and counted (ringDropped). The thread also polls libpcap's own
 * counters (pcap_stats: ps_recv, ps_drop, ps_ifdrop) every 100 ms and once more when it stops; stats() returns
 * them with the ring's counters, so every lost frame is accounted for:
 *   received (ps_recv) = dropped by the kernel (ps_drop) + delivered,  delivered = queued + ringDropped.
 * On a loopback interface the kernel is asked not to copy the leaving copy of each packet (PACKET_IGNORE_OUTGOING;
 * libpcap would discard it anyway), so each packet costs one copy and counts once in ps_recv.
 * The capture thread is named td-capture (top -H, /proc/<pid>/task/<tid>/comm).
 *
 * Ring record: u32 caplen, u32 wirelen, u32 ts_sec, u32 ts_nsec (native byte order), then caplen bytes, padded to
 * 4. A record never wraps: when it does not fit before the end, the producer writes a u32 0xFFFFFFFF there (when
 * 4 bytes remain; the end is otherwise implicit) and starts again at 0.
 *
 * API (all synchronous):
 *   open(device, filter, snaplen, bufferBytes, ringBytes, promisc) -> { handle, linkType, linkName, nanos }
 *   start(handle, wake)   starts the thread; wake() is called on the main thread when data (or the end) arrives
 *                         after a read() that found the ring empty
 *   read(handle, buffer)  copies whole records into buffer; bytes copied, 0 when empty (a wake follows), -1 once
 *                         the capture has stopped and the ring is empty (frames queued before a stop are kept)
 *   stats(handle)         { received, dropped, ifDropped, delivered, queued, ringDropped, ringBytes, ringUsed,
 *                           statsOk, error }
 *   close(handle)         stops and joins the thread, takes the final counters, closes libpcap; idempotent
 *   libVersion()          pcap_lib_version()
 */
#include <node_api.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define REC_HEADER 16u
#define WRAP_MARK 0xFFFFFFFFu
#define STATS_EVERY_NS 100000000LL

typedef struct {
  pcap_t *p;
  int nanos; /* timestamps in ns (else µs) */
  pthread_t thread;
  int started;
  int joined;
  int closed;
  pthread_mutex_t mu;
  /* ring, guarded by mu */
  uint8_t *ring;
  size_t cap;
  size_t head;
  size_t tail;
  size_t used;
  int waiting;
  int ended;
  /* counters, guarded by mu */
  uint64_t delivered;
  uint64_t queued;
  uint64_t ring_dropped;
  uint64_t recv;
  uint64_t drop;
  uint64_t ifdrop;
  unsigned last_recv, last_drop, last_ifdrop;
  int stats_ok;
  char error[PCAP_ERRBUF_SIZE + 32];
  volatile int stop;
  napi_threadsafe_function wake;
} Cap;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Takes pcap_stats and accumulates the deltas (libpcap's counters are u_int and wrap). Capture thread, or the
 * main thread once the capture thread has been joined. */
static void update_stats(Cap *c) {
  struct pcap_stat s;
  memset(&s, 0, sizeof s);
  if (pcap_stats(c->p, &s) != 0) return;
  pthread_mutex_lock(&c->mu);
  c->recv += (unsigned)(s.ps_recv - c->last_recv);
  c->drop += (unsigned)(s.ps_drop - c->last_drop);
  c->ifdrop += (unsigned)(s.ps_ifdrop - c->last_ifdrop);
  c->last_recv = s.ps_recv;
  c->last_drop = s.ps_drop;
  c->last_ifdrop = s.ps_ifdrop;
  c->stats_ok = 1;
  pthread_mutex_unlock(&c->mu);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  Cap *c = (Cap *)user;
  size_t need = REC_HEADER + (((size_t)h->caplen + 3u) & ~(size_t)3u);
  int wake = 0;
  pthread_mutex_lock(&c->mu);
  c->delivered++;
  size_t room_at_end = c->cap - c->head;
  size_t waste = room_at_end < need ? room_at_end : 0;
  if (need > c->cap || c->used + waste + need > c->cap) {
    c->ring_dropped++;
    pthread_mutex_unlock(&c->mu);
    return;
  }
  if (waste > 0) {
    if (waste >= 4) {
      uint32_t mark = WRAP_MARK;
      memcpy(c->ring + c->head, &mark, 4);
    }
    c->used += waste;
    c->head = 0;
  }
  uint32_t hdr[4];
  hdr[0] = h->caplen;
  hdr[1] = h->len;
  hdr[2] = (uint32_t)h->ts.tv_sec;
  hdr[3] = (uint32_t)(c->nanos ? h->ts.tv_usec : h->ts.tv_usec * 1000);
  memcpy(c->ring + c->head, hdr, REC_HEADER);
  memcpy(c->ring + c->head + REC_HEADER, bytes, h->caplen);
  c->head += need;
  if (c->head == c->cap) c->head = 0;
  c->used += need;
  c->queued++;
  if (c->waiting) {
    c->waiting = 0;
    wake = 1;
  }
  pthread_mutex_unlock(&c->mu);
  if (wake) napi_call_threadsafe_function(c->wake, NULL, napi_tsfn_nonblocking);
}

static void *capture_thread(void *arg) {
  Cap *c = (Cap *)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's business */
  int64_t last = now_ns();
  while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
    int n = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
    if (n == PCAP_ERROR) {
      pthread_mutex_lock(&c->mu);
      snprintf(c->error, sizeof c->error, "%s", pcap_geterr(c->p));
      pthread_mutex_unlock(&c->mu);
      break;
    }
    int64_t t = now_ns();
    if (t - last >= STATS_EVERY_NS) {
      update_stats(c);
      last = t;
    }
  }
  update_stats(c);
  pthread_mutex_lock(&c->mu);
  c->ended = 1;
  int wake = c->waiting;
  c->waiting = 0;
  pthread_mutex_unlock(&c->mu);
  if (wake) napi_call_threadsafe_function(c->wake, NULL, napi_tsfn_nonblocking);
  return NULL;
}

/* Whether `device` is a loopback interface (IFF_LOOPBACK); 0 when it cannot be told (e.g. "any"). */
static int is_loopback(const char *device) {
  struct ifreq r;
  memset(&r, 0, sizeof r);
  if (strlen(device) >= sizeof r.ifr_name) return 0;
  strcpy(r.ifr_name, device);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  int ok = ioctl(fd, SIOCGIFFLAGS, &r) == 0;
  close(fd);
  return ok && (r.ifr_flags & IFF_LOOPBACK) != 0;
}

/* ---- Node-API glue ---- */

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "teardown-pcap: " #call " failed");    \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

static void stop_and_join(Cap *c) {
  if (c->started && !c->joined) {
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    pcap_breakloop(c->p);
    pthread_join(c->thread, NULL);
    c->joined = 1;
  }
}

static void close_cap(Cap *c) {
  if (c->closed) return;
  stop_and_join(c);
  if (c->p != NULL) {
    update_stats(c);
    pcap_close(c->p);
    c->p = NULL;
  }
  pthread_mutex_lock(&c->mu);
  c->ended = 1; /* read() drains what the ring still holds, then reports the end */
  pthread_mutex_unlock(&c->mu);
  if (c->wake != NULL) {
    napi_release_threadsafe_function(c->wake, napi_tsfn_release);
    c->wake = NULL;
  }
  c->closed = 1;
}

static void finalize_cap(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Cap *c = (Cap *)data;
  close_cap(c);
  pthread_mutex_destroy(&c->mu);
  free(c->ring);
  free(c);
}

static Cap *get_cap(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "teardown-pcap: not a capture handle");
    return NULL;
  }
  return (Cap *)data;
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_msg(env, "open(device, filter, snaplen, bufferBytes, ringBytes, promisc)");
  char *device = get_string(env, argv[0]);
  char *filter = get_string(env, argv[1]);
  int32_t snaplen = 0, buffer = 0;
  double ring_bytes = 0;
  bool promisc = false;
  napi_get_value_int32(env, argv[2], &snaplen);
  napi_get_value_int32(env, argv[3], &buffer);
  napi_get_value_double(env, argv[4], &ring_bytes);
  napi_get_value_bool(env, argv[5], &promisc);
  char errbuf[PCAP_ERRBUF_SIZE + 256];
  errbuf[0] = 0;
  pcap_t *p = NULL;
  if (device == NULL || filter == NULL) {
    snprintf(errbuf, sizeof errbuf, "device and filter must be strings");
    goto fail;
  }
  p = pcap_create(device, errbuf);
  if (p == NULL) goto fail;
  pcap_set_snaplen(p, snaplen);
  pcap_set_promisc(p, promisc ? 1 : 0);
  pcap_set_timeout(p, 100);
  /* Not immediate mode: TPACKET_V3 blocks store frames at their size (immediate mode uses snaplen-sized slots,
   * so 128 MiB would hold only ~2,000 frames). A block is handed over when full or after the 100 ms timeout. */
  pcap_set_immediate_mode(p, 0);
  if (buffer > 0) pcap_set_buffer_size(p, buffer);
  int nanos = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
  int rc = pcap_activate(p);
  if (rc < 0) {
    const char *why = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
    if (rc == PCAP_ERROR_PERM_DENIED && (why == NULL || why[0] == 0)) why = "Operation not permitted";
    snprintf(errbuf, sizeof errbuf, "%s", (why && why[0]) ? why : pcap_statustostr(rc));
    goto fail;
  }
  nanos = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  /* A loopback interface shows every packet twice, leaving and arriving; libpcap keeps only the arriving copy. Asking
   * for that direction (PACKET_IGNORE_OUTGOING) spares the kernel copying the other into the buffer, and libpcap's
   * counters then count each packet once (received = dropped + delivered holds on lo too). */
  if (is_loopback(device)) {
    int one = 1;
    setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one); /* Linux >= 4.20 */
    pcap_setdirection(p, PCAP_D_IN); /* libpcap's own check, for older kernels */
  }
  if (filter[0] != 0) {
    struct bpf_program fp;
    if (pcap_compile(p, &fp, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      snprintf(errbuf, sizeof errbuf, "can't parse filter expression: %s", pcap_geterr(p));
      goto fail;
    }
    int bad = pcap_setfilter(p, &fp);
    pcap_freecode(&fp);
    if (bad != 0) {
      snprintf(errbuf, sizeof errbuf, "cannot set filter: %s", pcap_geterr(p));
      goto fail;
    }
  }
  size_t cap = ((size_t)ring_bytes + 3u) & ~(size_t)3u;
  if (cap < (size_t)snaplen + 64u) cap = ((size_t)snaplen + 64u + 3u) & ~(size_t)3u;
  Cap *c = calloc(1, sizeof(Cap));
  uint8_t *ring = c == NULL ? NULL : malloc(cap);
  if (c == NULL || ring == NULL) {
    free(c);
    snprintf(errbuf, sizeof errbuf, "cannot allocate a %zu-byte ring buffer", cap);
    goto fail;
  }
  c->p = p;
  c->nanos = nanos;
  c->ring = ring;
  c->cap = cap;
  pthread_mutex_init(&c->mu, NULL);
  int dlt = pcap_datalink(p);
  const char *dlt_name = pcap_datalink_val_to_name(dlt);
  free(device);
  free(filter);

  napi_value result, handle, v;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_external(env, c, finalize_cap, NULL, &handle));
  CHECK(napi_set_named_property(env, result, "handle", handle));
  CHECK(napi_create_int32(env, dlt, &v));
  CHECK(napi_set_named_property(env, result, "linkType", v));
  CHECK(napi_create_string_utf8(env, dlt_name ? dlt_name : "", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, result, "linkName", v));
  CHECK(napi_get_boolean(env, nanos, &v));
  CHECK(napi_set_named_property(env, result, "nanos", v));
  CHECK(napi_create_double(env, (double)cap, &v));
  CHECK(napi_set_named_property(env, result, "ringBytes", v));
  return result;

fail:
  if (p != NULL) pcap_close(p);
  free(device);
  free(filter);
  return throw_msg(env, errbuf[0] ? errbuf : "cannot open the capture");
}

static void call_wake(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  (void)data;
  if (env == NULL || js_cb == NULL) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js_cb, 0, NULL, NULL);
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_msg(env, "start(handle, wake)");
  Cap *c = get_cap(env, argv[0]);
  if (c == NULL) return NULL;
  if (c->closed || c->started) return throw_msg(env, "teardown-pcap: capture already started or closed");
  napi_value name;
  CHECK(napi_create_string_utf8(env, "teardown-pcap wake", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, call_wake, &c->wake));
  c->waiting = 1;
  if (pthread_create(&c->thread, NULL, capture_thread, c) != 0) {
    napi_release_threadsafe_function(c->wake, napi_tsfn_abort);
    c->wake = NULL;
    return throw_msg(env, "teardown-pcap: cannot start the capture thread");
  }
  pthread_setname_np(c->thread, "td-capture"); /* shown in top -H and /proc/<pid>/task/<tid>/comm */
  c->started = 1;
  return NULL;
}

static napi_value js_read(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_msg(env, "read(handle, buffer)");
  Cap *c = get_cap(env, argv[0]);
  if (c == NULL) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_ta = false;
  napi_is_typedarray(env, argv[1], &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t n;
    napi_value ab;
    size_t off;
    CHECK(napi_get_typedarray_info(env, argv[1], &type, &n, &data, &ab, &off));
    if (type != napi_uint8_array) return throw_msg(env, "read(): a Uint8Array/Buffer is needed");
    len = n;
  } else {
    return throw_msg(env, "read(): a Uint8Array/Buffer is needed");
  }
  uint8_t *out = (uint8_t *)data;
  size_t copied = 0;
  int ended = 0;
  {
    pthread_mutex_lock(&c->mu);
    while (c->used > 0) {
      size_t room_at_end = c->cap - c->tail;
      uint32_t caplen = WRAP_MARK;
      if (room_at_end >= REC_HEADER) memcpy(&caplen, c->ring + c->tail, 4);
      if (caplen == WRAP_MARK) {
        c->used -= room_at_end;
        c->tail = 0;
        continue;
      }
      size_t need = REC_HEADER + (((size_t)caplen + 3u) & ~(size_t)3u);
      if (copied + need > len) break;
      memcpy(out + copied, c->ring + c->tail, need);
      copied += need;
      c->tail += need;
      if (c->tail == c->cap) c->tail = 0;
      c->used -= need;
    }
    if (copied == 0) {
      if (c->ended) ended = 1;
      else c->waiting = 1;
    }
    pthread_mutex_unlock(&c->mu);
  }
  napi_value r;
  CHECK(napi_create_double(env, ended ? -1.0 : (double)copied, &r));
  return r;
}

static napi_value set_u64(napi_env env, napi_value obj, const char *name, uint64_t v) {
  napi_value x;
  if (napi_create_double(env, (double)v, &x) != napi_ok) return NULL;
  napi_set_named_property(env, obj, name, x);
  return obj;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Cap *c = get_cap(env, argv[0]);
  if (c == NULL) return NULL;
  napi_value r, v;
  CHECK(napi_create_object(env, &r));
  pthread_mutex_lock(&c->mu);
  uint64_t recv = c->recv, drop = c->drop, ifdrop = c->ifdrop, delivered = c->delivered, queued = c->queued,
           ring_dropped = c->ring_dropped, used = c->used, cap = c->cap;
  int ok = c->stats_ok;
  char error[sizeof c->error];
  memcpy(error, c->error, sizeof error);
  pthread_mutex_unlock(&c->mu);
  set_u64(env, r, "received", recv);
  set_u64(env, r, "dropped", drop);
  set_u64(env, r, "ifDropped", ifdrop);
  set_u64(env, r, "delivered", delivered);
  set_u64(env, r, "queued", queued);
  set_u64(env, r, "ringDropped", ring_dropped);
  set_u64(env, r, "ringUsed", used);
  set_u64(env, r, "ringBytes", cap);
  CHECK(napi_get_boolean(env, ok, &v));
  CHECK(napi_set_named_property(env, r, "statsOk", v));
  if (error[0]) {
    CHECK(napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &v));
  } else {
    CHECK(napi_get_null(env, &v));
  }
  CHECK(napi_set_named_property(env, r, "error", v));
  return r;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Cap *c = get_cap(env, argv[0]);
  if (c == NULL) return NULL;
  close_cap(c);
  return NULL;
}

static napi_value js_lib_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &v));
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
    {"read", NULL, js_read, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"libVersion", NULL, js_lib_version, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
