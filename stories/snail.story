# A premise-only story: the writer makes the four scenes.
title: The Brave Little Snail
audience: 3-6
style: bright crayon drawing, big shapes, happy colors
language: en
premise: a snail who is afraid of the rain learns to enjoy puddles
scenes: 4

character Sam
  description: a tiny green snail with a yellow spiral shell
  voice: child
