# SPDX-License-Identifier: GPL-2.0
# pysleep.py - sleep N times 2 ms in known Python functions:
#   <module> -> Waiter.go -> napper -> time.sleep
# usage: python3.11 pysleep.py N
import sys
import time


def napper(n):
    for _ in range(n):
        time.sleep(0.002)


class Waiter:
    def go(self, n):
        napper(n)


Waiter().go(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
