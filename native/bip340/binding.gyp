{
  "targets": [
    {
      "target_name": "bip340",
      "sources": ["bip340.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lsecp256k1"]
    }
  ]
}
