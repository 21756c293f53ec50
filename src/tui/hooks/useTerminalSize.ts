// The terminal's size, following resizes.
import { useStdout } from "ink";
import { useEffect } from "react";

export const DEFAULT_SIZE = { columns: 80, rows: 24 };

export function readSize(stdout: { columns?: number; rows?: number } | undefined): { columns: number; rows: number } {
  return { columns: stdout?.columns || DEFAULT_SIZE.columns, rows: stdout?.rows || DEFAULT_SIZE.rows };
}

/** Calls `onResize` with the size now and on every change (unless `fixed` pins it, as tests do). */
export function useTerminalSize(onResize: (size: { columns: number; rows: number }) => void, fixed?: { columns: number; rows: number }): void {
  const { stdout } = useStdout();
  useEffect(() => {
    if (fixed) return;
    const emit = () => onResize(readSize(stdout));
    emit();
    stdout.on("resize", emit);
    return () => {
      stdout.off("resize", emit);
    };
  }, [stdout, onResize, fixed]);
}
