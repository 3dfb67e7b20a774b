# First Snow: the short demo story that the README renders.
title: First Snow
audience: 3-6
style: soft watercolor picture book, warm pastel colors
language: en
seed: 7

voice narrator
  category: narrator
  rate: 0.95

character Pip
  description: a small red fox cub with a fluffy white-tipped tail
  voice: child

character Grandma-Bear
  description: a big gentle brown bear in a knitted green scarf
  voice: elder

scene white-morning
  setting: a cosy den under a pine tree, snow falling outside
  with: Pip, Grandma-Bear
  "One morning, Pip woke up and the whole forest was white."
  Pip (amazed): "Grandma! The sky is falling in little pieces!"

scene snowflakes
  setting: a snowy clearing between tall pine trees
  with: Pip, Grandma-Bear
  camera: slow zoom in
  Grandma-Bear (chuckling): "That is snow, little one. Catch one on your nose."
  Pip (giggling): "It tickles! And it melts!"

scene warm-den
  setting: the den at dusk, a warm glow inside, snow on the roof
  with: Pip, Grandma-Bear
  transition: crossfade
  "Pip curled up by Grandma-Bear, dreaming of tomorrow's snow."
  Pip (sleepily): "Can it snow again tomorrow?"
