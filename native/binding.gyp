{
  "targets": [
    {
      "target_name": "hop_limit",
      "sources": ["src/hop_limit.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=c11", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra"] }
    }
  ]
}
