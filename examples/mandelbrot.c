/*
 * mandelbrot.c - draws the Mandelbrot set in ASCII.
 *
 * Run:  build/sos wasm run build/examples/mandelbrot.wasm [WIDTH HEIGHT]
 * All floating point (f64 multiply-add loops), with one line of output
 * per row.  Points outside the set are shaded by how fast they escape, on
 * a log scale; points inside are '@'.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int width = argc > 2 ? atoi(argv[1]) : 76;
  int height = argc > 2 ? atoi(argv[2]) : 30;
  const char *shades = " .,:-=+*#%"; /* slow escape = dark */
  const int max_iter = 200;
  if (width < 2 || height < 2 || width > 1000 || height > 1000) {
    fprintf(stderr, "usage: mandelbrot [WIDTH HEIGHT] (2..1000 each)\n");
    return 2;
  }
  for (int row = 0; row < height; row++) {
    char line[1001];
    double ci = 1.2 - 2.4 * row / (height - 1);
    for (int col = 0; col < width; col++) {
      double cr = -2.1 + 2.8 * col / (width - 1);
      double zr = 0, zi = 0;
      int it = 0;
      while (it < max_iter && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        it++;
      }
      line[col] = it == max_iter
                      ? '@'
                      : shades[(int)(9.99 * log(it) / log(max_iter))];
    }
    line[width] = '\0';
    puts(line);
  }
  return 0;
}
