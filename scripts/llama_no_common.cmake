# Run by llama.cpp's project() call (CMAKE_PROJECT_llama.cpp_INCLUDE, set by
# install_local_teacher.sh). llama-cpp-python forces llama.cpp's `common` library on, but only
# llama.cpp's own tools and mtmd (LLAVA_BUILD, off here) link it; the Python bindings load
# libllama and ggml alone. Skipping it cuts a third of the compile: 293 s of CPU instead of 435 s
# (2 cores: 187 s wall instead of 243 s), and the sampled text is byte-identical.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama.cpp common library (unused by the Python bindings)" FORCE)
