{
  "targets": [
    {
      "target_name": "bronze",
      "sources": ["src/bronze.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
