"""Container runtimes behind one small interface: runc (real containers), process, fake."""
