using System.Runtime.CompilerServices;

// The shared checks test the matrix seam directly, on every CPU the harness emulates.
[assembly: InternalsVisibleTo("EdgeAgent.Checks")]
