/*
 * BIP-340 (Schnorr over secp256k1) verification for Node through Debian's libsecp256k1 (package
 * libsecp256k1-dev), for the county monitor, which checks one station signature per log entry: a million
 * of them in a minute is beyond tiny-secp256k1's WebAssembly build (native/bip340/README.md).
 *
 * Verification only, so no secret ever crosses this boundary, and it needs no context of its own: since
 * libsecp256k1 0.2.0 the static context verifies (its tables are compiled in), is immutable and so may be
 * used from every worker thread at once, and nothing here allocates per call.
 *
 * Exports
 *   verify(message, publicKey32, signature64) -> boolean
 *     message of any length (BIP-340 since 2023-04; callers here pass a 32-byte digest)
 *   verifyBatch(messages, publicKeys, signatures) -> Uint8Array of 1 (valid) / 0 (not valid)
 *     n entries packed end to end: messages n*32 bytes, publicKeys n*32, signatures n*64; one crossing
 *     of the N-API boundary for a whole entry bundle
 *   prepareKeys(publicKeys) -> an opaque handle on k keys (k*32 bytes) parsed once
 *   verifyBatchWithKeys(keys, messages, keyIndexes, signatures) -> Uint8Array of 1 / 0
 *     as verifyBatch, each entry's key named by its index (a Uint32Array) into the prepared keys: a monitor
 *     prepares the registry's thousand station keys once, not a key per entry (parsing one is a square
 *     root, ~6 µs of the ~45 a verification takes)
 *   library -> which library verifies (the monitor names it in its report)
 *
 * Inputs are checked before any byte is read: a value that is not a Uint8Array is a TypeError with code
 * ERR_BIP340_NOT_BYTES, a wrong length a RangeError with code ERR_BIP340_LENGTH. A public key that is not
 * the x coordinate of a curve point (BIP-340 vectors 5 and 14) is not an error: that signature is simply
 * not valid, as the BIP says. A key index past the prepared keys is a RangeError with code
 * ERR_BIP340_KEY_INDEX; a handle that prepareKeys did not make, a TypeError with code ERR_BIP340_NOT_KEYS.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_NAPI_OR(env, call, failed)                                                       \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      napi_throw_error((env), "ERR_BIP340_NAPI", "bip340: a Node-API call failed: " #call);    \
      return (failed);                                                                         \
    }                                                                                          \
  } while (0)
#define CHECK_NAPI(env, call) CHECK_NAPI_OR(env, call, NULL)

/* The bytes of a Uint8Array argument (a Buffer is one), or NULL with a TypeError thrown. */
static int get_bytes(napi_env env, napi_value value, const char *what, const unsigned char **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t count = 0;
  void *ptr = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, &count, &ptr, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "bip340: %s must be a Uint8Array", what);
    napi_throw_type_error(env, "ERR_BIP340_NOT_BYTES", msg);
    return 0;
  }
  *data = (const unsigned char *)ptr;
  *length = count;
  return 1;
}

static int expect_length(napi_env env, const char *what, size_t got, size_t want) {
  if (got == want) return 1;
  char msg[160];
  snprintf(msg, sizeof msg, "bip340: %s must be %zu bytes, got %zu", what, want, got);
  napi_throw_range_error(env, "ERR_BIP340_LENGTH", msg);
  return 0;
}

/*
 * The arguments of verify and verifyBatch, which take the same three: exactly three (else a TypeError that
 * shows `usage`), each a Uint8Array (else a TypeError naming the first that is not, by `what`). Their
 * lengths are the caller's to check: one signature or n of them. 0 with the error thrown.
 */
static int get_three_byte_args(napi_env env, napi_callback_info info, const char *usage, const char *const what[3], const unsigned char *data[3], size_t length[3]) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK_NAPI_OR(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), 0);
  if (argc != 3) {
    char msg[160];
    snprintf(msg, sizeof msg, "bip340: %s takes 3 arguments", usage);
    napi_throw_type_error(env, "ERR_BIP340_ARGUMENTS", msg);
    return 0;
  }
  for (size_t i = 0; i < 3; i++) {
    if (!get_bytes(env, argv[i], what[i], &data[i], &length[i])) return 0;
  }
  return 1;
}

/* How many 32-byte digests `messages` holds end to end, or 0 with a RangeError thrown if not whole ones. */
static int digest_count(napi_env env, size_t msgslen, size_t *n) {
  if (msgslen % 32 != 0) {
    char m[160];
    snprintf(m, sizeof m, "bip340: messages must be 32-byte digests end to end, got %zu bytes", msgslen);
    napi_throw_range_error(env, "ERR_BIP340_LENGTH", m);
    return 0;
  }
  *n = msgslen / 32;
  return 1;
}

static int verify_one(const unsigned char *msg, size_t msglen, const unsigned char *pub32, const unsigned char *sig64) {
  secp256k1_xonly_pubkey pubkey;
  if (!secp256k1_xonly_pubkey_parse(secp256k1_context_static, &pubkey, pub32)) return 0;
  return secp256k1_schnorrsig_verify(secp256k1_context_static, sig64, msg, msglen, &pubkey);
}

static napi_value verify(napi_env env, napi_callback_info info) {
  static const char *const what[3] = {"message", "publicKey", "signature"};
  const unsigned char *arg[3];
  size_t len[3];
  if (!get_three_byte_args(env, info, "verify(message, publicKey, signature)", what, arg, len)) return NULL;
  if (!expect_length(env, "publicKey (x-only)", len[1], 32)) return NULL;
  if (!expect_length(env, "signature", len[2], 64)) return NULL;
  napi_value result;
  CHECK_NAPI(env, napi_get_boolean(env, verify_one(len[0] == 0 ? NULL : arg[0], len[0], arg[1], arg[2]) == 1, &result));
  return result;
}

static napi_value verify_batch(napi_env env, napi_callback_info info) {
  static const char *const what[3] = {"messages", "publicKeys", "signatures"};
  const unsigned char *arg[3];
  size_t len[3], n;
  if (!get_three_byte_args(env, info, "verifyBatch(messages, publicKeys, signatures)", what, arg, len)) return NULL;
  if (!digest_count(env, len[0], &n)) return NULL;
  if (!expect_length(env, "publicKeys (32 bytes per message)", len[1], n * 32)) return NULL;
  if (!expect_length(env, "signatures (64 bytes per message)", len[2], n * 64)) return NULL;
  const unsigned char *msgs = arg[0], *pubs = arg[1], *sigs = arg[2];

  napi_value buffer, out;
  void *results = NULL;
  CHECK_NAPI(env, napi_create_arraybuffer(env, n, &results, &buffer));
  unsigned char *ok = (unsigned char *)results;
  /* consecutive entries of one station share a key: parsing it (a square root) once is enough */
  secp256k1_xonly_pubkey pubkey;
  const unsigned char *parsed = NULL;
  int parsed_ok = 0;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *pub = pubs + i * 32;
    if (parsed == NULL || memcmp(parsed, pub, 32) != 0) {
      parsed_ok = secp256k1_xonly_pubkey_parse(secp256k1_context_static, &pubkey, pub);
      parsed = pub;
    }
    ok[i] = parsed_ok && secp256k1_schnorrsig_verify(secp256k1_context_static, sigs + i * 64, msgs + i * 32, 32, &pubkey) == 1;
  }
  CHECK_NAPI(env, napi_create_typedarray(env, napi_uint8_array, n, buffer, 0, &out));
  return out;
}

/* What prepareKeys hands out: the keys parsed, and which of them are curve points at all. */
typedef struct {
  size_t count;
  secp256k1_xonly_pubkey *keys;
  unsigned char *valid;
} prepared_keys;

/* marks a handle as prepareKeys' own, so that no other object's pointer is ever taken for one */
static const napi_type_tag PREPARED_KEYS_TAG = {0x74616c6c7970726fULL, 0x6f662d6269703334ULL};

static void free_prepared(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  prepared_keys *p = (prepared_keys *)data;
  free(p->keys);
  free(p->valid);
  free(p);
}

static napi_value prepare_keys(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) {
    napi_throw_type_error(env, "ERR_BIP340_ARGUMENTS", "bip340: prepareKeys(publicKeys) takes 1 argument");
    return NULL;
  }
  const unsigned char *pubs;
  size_t pubslen;
  if (!get_bytes(env, argv[0], "publicKeys", &pubs, &pubslen)) return NULL;
  if (pubslen % 32 != 0) {
    char m[160];
    snprintf(m, sizeof m, "bip340: publicKeys must be 32-byte x-only keys end to end, got %zu bytes", pubslen);
    napi_throw_range_error(env, "ERR_BIP340_LENGTH", m);
    return NULL;
  }
  size_t k = pubslen / 32;
  prepared_keys *p = (prepared_keys *)calloc(1, sizeof *p);
  if (p != NULL) {
    p->count = k;
    p->keys = (secp256k1_xonly_pubkey *)calloc(k == 0 ? 1 : k, sizeof *p->keys);
    p->valid = (unsigned char *)calloc(k == 0 ? 1 : k, 1);
  }
  if (p == NULL || p->keys == NULL || p->valid == NULL) {
    if (p != NULL) free_prepared(env, p, NULL);
    napi_throw_error(env, "ERR_BIP340_MEMORY", "bip340: out of memory preparing keys");
    return NULL;
  }
  for (size_t i = 0; i < k; i++) p->valid[i] = (unsigned char)secp256k1_xonly_pubkey_parse(secp256k1_context_static, &p->keys[i], pubs + i * 32);
  napi_value handle;
  if (napi_create_external(env, p, free_prepared, NULL, &handle) != napi_ok) {
    free_prepared(env, p, NULL);
    napi_throw_error(env, "ERR_BIP340_NAPI", "bip340: could not make the keys' handle");
    return NULL;
  }
  CHECK_NAPI(env, napi_type_tag_object(env, handle, &PREPARED_KEYS_TAG));
  return handle;
}

static napi_value verify_batch_with_keys(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 4) {
    napi_throw_type_error(env, "ERR_BIP340_ARGUMENTS", "bip340: verifyBatchWithKeys(keys, messages, keyIndexes, signatures) takes 4 arguments");
    return NULL;
  }
  napi_valuetype type;
  bool ours = false;
  CHECK_NAPI(env, napi_typeof(env, argv[0], &type));
  if (type == napi_external) CHECK_NAPI(env, napi_check_object_type_tag(env, argv[0], &PREPARED_KEYS_TAG, &ours));
  if (!ours) {
    napi_throw_type_error(env, "ERR_BIP340_NOT_KEYS", "bip340: keys must be what prepareKeys returned");
    return NULL;
  }
  prepared_keys *p;
  CHECK_NAPI(env, napi_get_value_external(env, argv[0], (void **)&p));

  const unsigned char *msgs, *sigs;
  size_t msgslen, sigslen;
  if (!get_bytes(env, argv[1], "messages", &msgs, &msgslen)) return NULL;
  bool is_typed = false;
  napi_typedarray_type itype;
  size_t icount = 0;
  void *iptr = NULL;
  if (napi_is_typedarray(env, argv[2], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[2], &itype, &icount, &iptr, NULL, NULL) != napi_ok || itype != napi_uint32_array) {
    napi_throw_type_error(env, "ERR_BIP340_NOT_BYTES", "bip340: keyIndexes must be a Uint32Array");
    return NULL;
  }
  if (!get_bytes(env, argv[3], "signatures", &sigs, &sigslen)) return NULL;
  size_t n;
  if (!digest_count(env, msgslen, &n)) return NULL;
  if (icount != n) {
    char m[160];
    snprintf(m, sizeof m, "bip340: keyIndexes must have one index per message (%zu), got %zu", n, icount);
    napi_throw_range_error(env, "ERR_BIP340_LENGTH", m);
    return NULL;
  }
  if (!expect_length(env, "signatures (64 bytes per message)", sigslen, n * 64)) return NULL;
  const uint32_t *idx = (const uint32_t *)iptr;
  for (size_t i = 0; i < n; i++) {
    if (idx[i] >= p->count) {
      char m[160];
      snprintf(m, sizeof m, "bip340: key index %u at %zu is past the %zu prepared keys", idx[i], i, p->count);
      napi_throw_range_error(env, "ERR_BIP340_KEY_INDEX", m);
      return NULL;
    }
  }

  napi_value buffer, out;
  void *results = NULL;
  CHECK_NAPI(env, napi_create_arraybuffer(env, n, &results, &buffer));
  unsigned char *ok = (unsigned char *)results;
  for (size_t i = 0; i < n; i++) {
    size_t k = idx[i];
    ok[i] = p->valid[k] && secp256k1_schnorrsig_verify(secp256k1_context_static, sigs + i * 64, msgs + i * 32, 32, &p->keys[k]) == 1;
  }
  CHECK_NAPI(env, napi_create_typedarray(env, napi_uint8_array, n, buffer, 0, &out));
  return out;
}

NAPI_MODULE_INIT() {
  /* the library's own check that it was compiled for this machine; it aborts the process if not */
  secp256k1_selftest();
  napi_property_descriptor props[] = {
    {"verify", NULL, verify, NULL, NULL, NULL, napi_enumerable, NULL},
    {"verifyBatch", NULL, verify_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"prepareKeys", NULL, prepare_keys, NULL, NULL, NULL, napi_enumerable, NULL},
    {"verifyBatchWithKeys", NULL, verify_batch_with_keys, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  napi_value version;
  if (napi_create_string_utf8(env, "libsecp256k1 (system, schnorrsig module)", NAPI_AUTO_LENGTH, &version) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "library", version) != napi_ok) return NULL;
  return exports;
}
