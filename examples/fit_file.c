/*
 * fit_file.c - the smallest complete use of libcsvreg: fit one column of a
 * CSV file on all the others and print the coefficients. It includes only
 * <csvreg.h> and builds against an installed csvreg by pkg-config or CMake
 * (see examples/README.md); tests/install checks it against `csvreg fit`.
 *
 *   fit_file data/longley.csv Employed
 */
#include <stdio.h>

#include <csvreg.h>

/* Prints the error the library filled in and gives the exit status. */
static int fail(const csvreg_error *err) {
  char msg[1024];
  csvreg_error_format(err, msg, sizeof msg);
  fprintf(stderr, "fit_file: %s\n", msg[0] ? msg : csvreg_status_str(err->status));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fit_file FILE TARGET\n");
    return 2;
  }
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_reader *reader = NULL;
  csvreg_spec *spec = NULL;
  csvreg_chunk *chunk = NULL;
  csvreg_accum *accum = NULL;
  csvreg_fit *fit = NULL;
  int status = 1;

  /* The reader yields records; the spec names the target (every other column
   * is a feature); the chunk holds a block of parsed rows; the accumulator
   * folds the blocks, in memory independent of the number of rows. */
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.target = argv[2];
  if (csvreg_reader_open(&reader, argv[1], &ro, &err) != CSVREG_OK ||
      csvreg_spec_new(&spec, csvreg_reader_column_names(reader), csvreg_reader_ncolumns(reader),
                      &so, &err) != CSVREG_OK ||
      csvreg_chunk_new(&chunk, spec, 0, &err) != CSVREG_OK ||
      csvreg_accum_new_for_spec(&accum, spec, CSVREG_SOLVER_QR, &err) != CSVREG_OK) {
    status = fail(&err);
    goto done;
  }
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(chunk, reader, &err); /* CSVREG_END: last, maybe partial, block */
    if (csvreg_is_error(st) || csvreg_accum_add_chunk(accum, chunk, &err) != CSVREG_OK) {
      status = fail(&err);
      goto done;
    }
  } while (st != CSVREG_END);
  if (csvreg_accum_solve(accum, NULL, &fit, &err) != CSVREG_OK) {
    status = fail(&err);
    goto done;
  }

  printf("# %s on %zu terms%s, solver %s, %zu input columns:", csvreg_spec_target_name(spec),
         csvreg_spec_nterms(spec), csvreg_spec_intercept(spec) ? " and an intercept" : "",
         csvreg_solver_name(csvreg_accum_solver(accum)), csvreg_spec_ninputs(spec));
  for (size_t k = 0; k < csvreg_spec_ninputs(spec); k++)
    printf(" %s (column %zu)", csvreg_spec_input_name(spec, k),
           csvreg_spec_input_column(spec, k) + 1);
  printf("\n");
  /* Shortest text that reads back to the same double, whatever the locale. */
  for (size_t i = 0; i < csvreg_fit_get_summary(fit)->nterms; i++) {
    const csvreg_term *t = csvreg_fit_term(fit, i);
    char num[CSVREG_FORMAT_DOUBLE_MAX];
    csvreg_format_double(t->estimate, num);
    printf("%s\t%s\n", t->name, num);
  }
  status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;

done:
  csvreg_fit_free(fit);
  csvreg_accum_free(accum);
  csvreg_chunk_free(chunk);
  csvreg_spec_free(spec);
  csvreg_reader_free(reader);
  return status;
}
