// The shell test for what native/bip340 builds against (Debian package libsecp256k1-dev, 0.2.0 or later):
// the schnorrsig and extrakeys headers, the static context that verifies without tables of its own
// (new in 0.2.0), and the library to link. Shared by ensure-system.js and build-native.js.
'use strict';
const LIBSECP_CHECK = [
  'grep -q secp256k1_schnorrsig_verify /usr/include/secp256k1_schnorrsig.h',
  'grep -q secp256k1_xonly_pubkey_parse /usr/include/secp256k1_extrakeys.h',
  'grep -q secp256k1_context_static /usr/include/secp256k1.h',
  'ls /usr/lib/*/libsecp256k1.so /usr/lib/libsecp256k1.so 2>/dev/null | grep -q .',
].join(' && ');
module.exports = { LIBSECP_CHECK };
