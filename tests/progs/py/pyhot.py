# SPDX-License-Identifier: GPL-2.0
# pyhot.py - spin for MS milliseconds of CPU time in known Python functions:
#   <module> -> main -> Outer.run -> hot_leaf (the loop)
# usage: python3.11 pyhot.py MS
import sys
import time


def hot_leaf(until):
    x = 0
    while time.process_time() < until:
        for i in range(20000):
            x += i * 3
    return x


class Outer:
    def run(self, until):
        return hot_leaf(until) + 1


def main():
    ms = float(sys.argv[1]) if len(sys.argv) > 1 else 500
    return Outer().run(time.process_time() + ms / 1000)


main()
