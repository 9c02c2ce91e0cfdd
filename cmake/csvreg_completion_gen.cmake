# cmake -DCSVREG=PROGRAM -DOUT=DIR -P csvreg_completion_gen.cmake: writes
# DIR/csvreg (bash) and DIR/_csvreg (zsh) from `PROGRAM completion bash|zsh`.
file(MAKE_DIRECTORY ${OUT})
foreach(pair "bash;csvreg" "zsh;_csvreg")
  list(GET pair 0 shell)
  list(GET pair 1 name)
  execute_process(COMMAND ${CSVREG} completion ${shell} OUTPUT_FILE ${OUT}/${name}.tmp
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${CSVREG} completion ${shell} failed: ${rc}")
  endif()
  file(RENAME ${OUT}/${name}.tmp ${OUT}/${name})
endforeach()
